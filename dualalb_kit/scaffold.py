"""A new params file: commented YAML for one Fargate service, from a few answers.

``params_text(...)`` fills the template and validates it as a :class:`DeploymentSpec` before
returning, so a file written from it synthesizes as written (``dualalb-kit init`` writes one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Answers:
    """What ``init`` asks. Defaults: nginx on port 80 behind both ALBs, all on Fargate Spot."""

    stack_name: str = "dualalb-app"
    region: str = "us-east-1"
    image: str = "public.ecr.aws/nginx/nginx:stable"
    container_port: int = 80
    external_port: int = 80  # 0: not on the internet-facing ALB
    internal_port: int = 80  # 0: not on the internal ALB
    spot: bool = True


QUESTIONS: dict[str, str] = {
    "stack_name": "stack name",
    "region": "AWS region",
    "image": "container image",
    "container_port": "container port",
    "external_port": "internet-facing ALB port (0: none)",
    "internal_port": "internal ALB port (0: none)",
    "spot": "run on Fargate Spot (yes/no)",
}
"""The prompt for each answer, in the order ``init`` asks them."""

_TEMPLATE = """\
# A dualalb-kit params file: the keys are DeploymentSpec's fields (see docs/guides/params-files.md).
# Synthesize it:  dualalb-kit synth {file_name}
# Deploy it to the local sandbox:  dualalb-kit deploy {file_name}

stack_name: {stack_name}
region: {region}
spot: {spot}                    # true: 100% FARGATE_SPOT unless a task sets its own capacity mix
enable_execute_command: false # true: `aws ecs execute-command` into the tasks
vpc: new                      # new | default | vpc-xxxxxxxx
subnets: private              # private | public | public-one-per-az | [subnet-..., ...]
route53:
  zone_name: svc.local        # private hosted zone; the ALBs get external.svc.local / internal.svc.local
tasks:
  - name: app
    image: {image}
    container_port: {container_port}
    cpu: 256                  # CPU units (1024 = 1 vCPU)
    memory: 512               # MiB, a size Fargate allows for the cpu
    desired_count: 2
{listeners}    scaling:
      min_capacity: 1
      max_capacity: 10
      target_cpu_utilization: 50   # percent
      request_per_target: 1000     # ALB requests per task the scaling aims for
    # environment: {{LOG_LEVEL: info}}
    # health_check: {{path: /health}}
    # capacity:                # own spot mix: FARGATE base 1, then 1:3 with FARGATE_SPOT
    #   - {{provider: FARGATE, base: 1, weight: 1}}
    #   - {{provider: FARGATE_SPOT, weight: 3}}
"""


def params_text(answers: Answers, file_name: str = "params.yaml") -> str:
    """The params file for ``answers``, validated (a bad answer raises ValidationError naming its key)."""
    listeners = "".join(
        f"    {side}: {{port: {port}}}   # the {label} ALB's listener\n"
        for side, port, label in (
            ("external", answers.external_port, "internet-facing"),
            ("internal", answers.internal_port, "internal"),
        )
        if port
    )
    text = _TEMPLATE.format(
        file_name=file_name,
        stack_name=json.dumps(answers.stack_name),
        region=json.dumps(answers.region),
        image=json.dumps(answers.image),
        container_port=answers.container_port,
        spot=str(answers.spot).lower(),
        listeners=listeners,
    )
    from .spec import load_spec  # here, so the CLI reads Answers' defaults without loading pydantic

    load_spec(text)
    return text
