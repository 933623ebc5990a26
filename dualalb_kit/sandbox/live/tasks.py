"""ECS tasks as local processes: each runnable task of a service in the sandbox is a process group
on loopback, with a free port per container port, the container's environment and its secrets.

A container is runnable locally when its image is one of the kit's sample images (the sandbox
records their role when the assets are registered, :mod:`dualalb_kit.sandbox.assets`) or its
container definition carries the ``dualalb-kit.local`` Docker label (a JSON object
``{"command": [...], "cwd": "..."}``; ``$PORT`` in the command is the container port's local
port). Task life follows ECS: ``PROVISIONING`` until its port answers, ``RUNNING``, then
``STOPPED`` with a reason and the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...samples import SAMPLE_APP_DIR

LOCAL_LABEL = "dualalb-kit.local"
"""Docker label of a container definition that says how to run it locally."""
SAMPLE_ANNOTATION = "dualalb-kit.sample-role"
"""Annotation of a sample image's manifest in the sandbox's ECR: the role it answers as."""
STOP_TIMEOUT_S = 30.0
"""ECS's default stopTimeout: SIGTERM, then SIGKILL after this many seconds."""


@dataclass(frozen=True)
class Container:
    """One container of a task definition, as the data plane runs it."""

    name: str
    command: tuple[str, ...]
    cwd: str | None
    environment: Mapping[str, str]
    ports: tuple[int, ...]
    """Container ports (each gets its own loopback port)."""


@dataclass(frozen=True)
class ServiceState:
    """An ECS service as the data plane needs it: where its tasks go and how many."""

    arn: str
    cluster: str
    name: str
    task_definition: str
    desired_count: int
    load_balancers: tuple[tuple[str, str, int], ...]
    """(target group ARN, container name, container port) per load balancer entry."""
    cpu_units: int
    memory_mib: int
    containers: tuple[Container, ...]
    """Only the containers that can run locally; empty when none can."""
    not_local_reason: str = ""


@dataclass
class LocalTask:
    """One task: its process, its local ports (container port -> loopback port) and its ECS status."""

    task_id: str
    service: ServiceState
    environment: dict[str, str]
    """The container environment it was started with (a change replaces the task)."""
    process: subprocess.Popen
    ports: dict[int, int]
    log_path: Path
    status: str = "PROVISIONING"
    started_at: float = field(default_factory=time.time)
    stopped_reason: str = ""
    exit_code: int | None = None

    @property
    def arn(self) -> str:
        return f"{self.service.arn.split(':service/')[0]}:task/{self.service.cluster}/{self.task_id}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _sample_role(ecr: Any, image: str) -> str | None:
    """The sample role recorded for ``image`` (an ECR URI in the sandbox), if it is a sample image."""
    repository_part, _, tag = image.rpartition(":")
    if ".dkr.ecr." not in repository_part or not tag:
        return None
    repository = repository_part.split("/", 1)[1]
    try:
        images = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])["images"]
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    for found in images:
        annotations = json.loads(found.get("imageManifest") or "{}").get("annotations", {})
        if SAMPLE_ANNOTATION in annotations:
            return annotations[SAMPLE_ANNOTATION]
    return None


def _secret_value(secretsmanager: Any, value_from: str) -> str:
    """An ECS secret's value: a Secrets Manager ARN, optionally ``:json-key:version-stage:version-id``."""
    parts = value_from.split(":")
    arn, json_key = ":".join(parts[:7]), parts[7] if len(parts) > 7 else ""
    secret = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    return str(json.loads(secret)[json_key]) if json_key else secret


def _container(definition: dict, ecr: Any, secretsmanager: Any) -> Container | None:
    """How to run ``definition`` locally, or None when it cannot run here."""
    ports = tuple(int(m["containerPort"]) for m in definition.get("portMappings", []))
    environment = {item["name"]: item["value"] for item in definition.get("environment", [])}
    for secret in definition.get("secrets", []):
        environment[secret["name"]] = _secret_value(secretsmanager, secret["valueFrom"])
    label = definition.get("dockerLabels", {}).get(LOCAL_LABEL)
    if label:
        local = json.loads(label)
        return Container(definition["name"], tuple(local["command"]), local.get("cwd"), environment, ports)
    role = _sample_role(ecr, definition.get("image", ""))
    if role is None:
        return None
    sample_environment = {"serviceName": role, "versionNum": "1.0", "PYTHONUNBUFFERED": "1", **environment}
    command = (sys.executable, str(SAMPLE_APP_DIR / "service.py"))
    return Container(definition["name"], command, None, sample_environment, ports)


def read_services(ecs: Any, ecr: Any, secretsmanager: Any) -> list[ServiceState]:
    """Every ACTIVE ECS service in the sandbox, with the containers that can run locally."""
    services = []
    for cluster in _pages(ecs, "list_clusters", "clusterArns"):
        arns = list(_pages(ecs, "list_services", "serviceArns", cluster=cluster))
        for start in range(0, len(arns), 10):
            described = ecs.describe_services(cluster=cluster, services=arns[start : start + 10])["services"]
            for service in described:
                if service.get("status") != "ACTIVE":
                    continue
                definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
                    "taskDefinition"
                ]
                containers = [_container(c, ecr, secretsmanager) for c in definition["containerDefinitions"]]
                runnable = tuple(c for c in containers if c is not None)
                services.append(
                    ServiceState(
                        arn=service["serviceArn"],
                        cluster=cluster.rsplit("/", 1)[-1],
                        name=service["serviceName"],
                        task_definition=definition["taskDefinitionArn"],
                        desired_count=int(service.get("desiredCount", 0)),
                        load_balancers=tuple(
                            (lb["targetGroupArn"], lb["containerName"], int(lb["containerPort"]))
                            for lb in service.get("loadBalancers", [])
                            if lb.get("targetGroupArn")
                        ),
                        cpu_units=int(definition.get("cpu") or 256),
                        memory_mib=int(definition.get("memory") or 512),
                        containers=runnable if len(runnable) == len(containers) else (),
                        not_local_reason=""
                        if len(runnable) == len(containers)
                        else "its image is neither a sample image nor labelled with a local command",
                    )
                )
    return services


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**arguments):
        yield from page.get(key, [])


def start_task(service: ServiceState, log_dir: Path, environment: Mapping[str, str]) -> LocalTask:
    """Start one task of ``service`` (its first container) as a new process group.

    ``environment`` is the container's, as the process gets it (private Route 53 names already
    pointed at the local listeners). ``PORT`` (and ``$PORT`` in the command) is the local port of
    the first container port; ``HOST`` is 127.0.0.1.
    """
    container = service.containers[0]
    ports = {container_port: free_port() for container_port in container.ports}
    first_port = next(iter(ports.values()), free_port())
    task_id = uuid.uuid4().hex
    log_path = log_dir / f"{service.name}-{task_id[:8]}.log"
    process_environment = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")},
        **environment,
        "HOST": "127.0.0.1",
        "PORT": str(first_port),
    }
    command = [part.replace("$PORT", str(first_port)) for part in container.command]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=container.cwd,
            env=process_environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return LocalTask(task_id, service, dict(environment), process, ports, log_path)


def refresh(task: LocalTask) -> None:
    """Advance ``task``'s status: RUNNING once its first port answers, STOPPED when it exited."""
    if task.status == "STOPPED":
        return
    code = task.process.poll()
    if code is not None:
        task.status, task.exit_code = "STOPPED", code
        task.stopped_reason = task.stopped_reason or f"Essential container in task exited (exit code {code})"
    elif task.status == "PROVISIONING" and all(_answers(port) for port in task.ports.values()):
        task.status = "RUNNING"


def stop_task(task: LocalTask, reason: str, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the task's process group, SIGKILL after ``timeout`` seconds; record why and the exit code."""
    task.stopped_reason = task.stopped_reason or reason
    if task.process.poll() is None:
        try:
            os.killpg(task.process.pid, signal.SIGTERM)
            task.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(task.process.pid, signal.SIGKILL)
            task.process.wait()
        except ProcessLookupError:
            pass
    task.status, task.exit_code = "STOPPED", task.process.returncode
