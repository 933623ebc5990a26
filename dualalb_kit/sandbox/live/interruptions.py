"""Fargate Spot interruptions in the live sandbox: asked for from any process, carried out by the
data plane as AWS does.

**The request.** :func:`request_interruption` (``dualalb-kit sandbox interrupt SERVICE``) finds a
RUNNING ``FARGATE_SPOT`` task of the service through ECS (the data plane records its tasks there)
and writes the SSM parameter ``/dualalb-kit/sandbox/interrupt/<task id>`` holding the task's ARN.
The data plane takes (reads and deletes) the parameters under that path on its next
reconciliation, every 2 s: like :mod:`.urls`, the sandbox's own API is the only channel, so the
CLI, a notebook and the sandbox may be three processes.

**The interruption**, as Fargate Spot's two-minute warning:

1. ECS records the task's ``desiredStatus`` ``STOPPED``, ``stopCode`` ``SpotInterruption`` and
   ``stoppedReason`` "Your Spot Task was interrupted." (:data:`SPOT_REASON`); it keeps running.
2. ECS's "ECS Task State Change" event (:func:`interruption_event`: the task as
   ``DescribeTasks`` shows it) goes into the sandbox's EventBridge (``PutEvents``) and to the
   Lambda targets of every enabled rule it matches (``TestEventPattern``), which moto does not
   invoke without Docker (:func:`deliver`). A function whose handler is one of the kit's
   (:data:`IN_PROCESS_HANDLERS`: the Spot termination handler) runs in the sandbox's process with
   boto3 clients on the sandbox; any other is reported as not run.
3. The task's processes get SIGTERM, then SIGKILL once the grace period ends (120 s, as Spot's
   warning; ``DataPlane.interruption_grace_s``), and it is ``STOPPED`` with its exit code.
4. Its service starts a replacement at once, placed by its capacity provider strategy.

**Addresses.** ECS shows a task's private IPv4 address (its ENI in the service's subnet) and
container ports, and the handler deregisters exactly those; ELBv2 holds the task as 127.0.0.1 and
the host port the sandbox gave each container port (as ECS's bridge network mode publishes a
container port on a host port). The ELBv2 client a function gets translates the interrupted
task's (private IP, container port) to its (127.0.0.1, host port), so the deregistration reaches
the target HAProxy serves, and HAProxy's next reload drops it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...errors import ValidationError
from ...handlers import spot_termination
from ...tags import SERVICE_TAG
from .state import pages
from .urls import is_live

SPOT = "FARGATE_SPOT"
SPOT_INTERRUPTION = spot_termination.SPOT_INTERRUPTION
SPOT_REASON = "Your Spot Task was interrupted."
"""ECS's ``stoppedReason`` of an interrupted Fargate Spot task."""
REQUEST_PATH = "/dualalb-kit/sandbox/interrupt/"
"""SSM parameters under this path ask the data plane to interrupt a task (value: its ARN)."""
EVENT_SOURCE, EVENT_DETAIL_TYPE = "aws.ecs", "ECS Task State Change"

Clients = Callable[[str], Any]
"""Service name -> a boto3 client on the sandbox."""


def _run_spot_handler(event: dict[str, Any], clients: Clients) -> Any:
    return spot_termination.deregister_interrupted_task(event, clients("ecs"), clients("elbv2"))


IN_PROCESS_HANDLERS: Mapping[str, Callable[[dict[str, Any], Clients], Any]] = {
    "spot_termination.handler": _run_spot_handler,
}
"""Lambda handler -> how the sandbox runs it in its own process: the kit's functions only."""


# -- the request ------------------------------------------------------------------------------------
def request_interruption(target: Any, service: str, task: str | None = None) -> str:
    """Ask the live sandbox ``target`` to interrupt a Fargate Spot task of ``service`` (the ECS
    service's name or ARN, or a spec task's name, as the ``dualalb:service`` tag carries it).

    ``task``: the task's ID or ARN (default: the service's oldest RUNNING Spot task). Returns the
    task's ARN; the data plane interrupts it within one reconciliation (about 2 s). Raises
    :class:`~dualalb_kit.errors.ValidationError` naming ``service`` or ``task`` when there is no
    such service or running Spot task, or the sandbox runs no data plane.
    """
    if target.kind != "sandbox" or not is_live(target.client("ssm")):
        where = getattr(target, "endpoint_url", None) or "AWS"
        raise ValidationError(
            "sandbox", f"{where} runs no live data plane: start one with `dualalb-kit sandbox --live`"
        )
    ecs = target.client("ecs")
    found = find_service(ecs, service)
    task_arn = spot_task(ecs, found, task)
    target.client("ssm").put_parameter(
        Name=f"{REQUEST_PATH}{task_arn.rsplit('/', 1)[-1]}", Value=task_arn, Type="String", Overwrite=True
    )
    return task_arn


def find_service(ecs: Any, name: str) -> dict[str, Any]:
    """The ACTIVE ECS service named ``name``: its name or ARN, else the one tagged
    ``dualalb:service=<name>`` (a ValidationError naming ``service`` for none or several)."""
    described = []
    for cluster in pages(ecs, "list_clusters", "clusterArns"):
        arns = list(pages(ecs, "list_services", "serviceArns", cluster=cluster))
        for start in range(0, len(arns), 10):
            described += ecs.describe_services(
                cluster=cluster, services=arns[start : start + 10], include=["TAGS"]
            )["services"]
    active = [s for s in described if s.get("status") == "ACTIVE"]
    exact = [s for s in active if name in (s["serviceName"], s["serviceArn"])]
    tagged = [s for s in active if {"key": SERVICE_TAG, "value": name} in s.get("tags", [])]
    matches = exact or tagged
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(sorted(s["serviceName"] for s in matches))
        raise ValidationError(
            "service", f"{name!r} names {len(matches)} services ({names}): give one of these"
        )
    known = ", ".join(sorted(s["serviceName"] for s in active)) or "none"
    raise ValidationError("service", f"no ECS service {name!r} in the sandbox (services: {known})")


def capacity_providers(service: Mapping[str, Any]) -> list[str]:
    """The capacity providers of ``service``'s strategy, else its launch type."""
    strategy = [item["capacityProvider"] for item in service.get("capacityProviderStrategy") or ()]
    return strategy or [f"launch type {service.get('launchType') or 'FARGATE'}"]


def spot_task(ecs: Any, service: Mapping[str, Any], task: str | None = None) -> str:
    """The ARN of ``task`` (ID or ARN; default the oldest) among ``service``'s RUNNING Fargate Spot
    tasks, whose desired status is still RUNNING (a ValidationError naming what is missing)."""
    cluster, name = service["clusterArn"], service["serviceName"]
    arns = list(pages(ecs, "list_tasks", "taskArns", cluster=cluster, serviceName=name))
    described = []
    for start in range(0, len(arns), 100):
        described += ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"]
    running = sorted(
        (
            t
            for t in described
            if t.get("capacityProviderName") == SPOT
            and t.get("lastStatus") == "RUNNING"
            and t.get("desiredStatus") == "RUNNING"
        ),
        key=lambda t: t.get("startedAt") or t.get("createdAt") or datetime.min.replace(tzinfo=UTC),
    )
    if not running:
        providers = ", ".join(capacity_providers(service))
        raise ValidationError(
            "service", f"{name} has no running {SPOT} task (its capacity providers: {providers})"
        )
    if task is None:
        return running[0]["taskArn"]
    chosen = [t for t in running if task in (t["taskArn"], t["taskArn"].rsplit("/", 1)[-1])]
    if not chosen:
        ids = ", ".join(t["taskArn"].rsplit("/", 1)[-1] for t in running)
        raise ValidationError("task", f"{task!r} is not a running {SPOT} task of {name} (those are: {ids})")
    return chosen[0]["taskArn"]


def take_requests(ssm: Any, owned: Callable[[str], bool]) -> list[str]:
    """The task ARNs asked to be interrupted, for the tasks ``owned`` says are this plane's; their
    parameters are deleted (each request is carried out once)."""
    taken = []
    for parameter in pages(ssm, "get_parameters_by_path", "Parameters", Path=REQUEST_PATH, Recursive=True):
        if owned(parameter["Value"]):
            ssm.delete_parameter(Name=parameter["Name"])
            taken.append(parameter["Value"])
    return taken


# -- the event --------------------------------------------------------------------------------------
def _json_value(value: Any) -> Any:
    """A DescribeTasks value as the event's JSON has it (times as ISO 8601 with milliseconds, UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


def interruption_event(
    task: Mapping[str, Any], account_id: str, region: str, event_id: str
) -> dict[str, Any]:
    """EventBridge's "ECS Task State Change" for ``task`` (as ``DescribeTasks`` shows it, already
    ``desiredStatus`` STOPPED with ``stopCode`` SpotInterruption): the task is the event's detail,
    with ``updatedAt``, as AWS documents it."""
    detail = {
        key: _json_value(value) for key, value in task.items() if key not in ("tags", "ResponseMetadata")
    }
    now = datetime.now(UTC)
    detail["updatedAt"] = _json_value(now)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": EVENT_DETAIL_TYPE,
        "source": EVENT_SOURCE,
        "account": account_id,
        "time": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "region": region,
        "resources": [task["taskArn"]],
        "detail": detail,
    }


# -- delivery ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    """What became of the event at one rule's Lambda target: ``ran`` (its result) or why not."""

    rule: str
    function: str
    ran: bool
    result: Any = None
    reason: str = ""

    def __str__(self) -> str:
        outcome = f"ran: {self.result}" if self.ran else f"not run: {self.reason}"
        return f"rule {self.rule} -> function {self.function} {outcome}"


def deliver(event: dict[str, Any], clients: Clients) -> list[Delivery]:
    """Put ``event`` on the sandbox's default event bus and run the Lambda targets of the enabled
    rules it matches (see the module doc); one :class:`Delivery` per Lambda target."""
    events, functions = clients("events"), clients("lambda")
    events.put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )
    done = []
    for rule in pages(events, "list_rules", "Rules"):
        if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
            continue
        if not events.test_event_pattern(EventPattern=rule["EventPattern"], Event=json.dumps(event))[
            "Result"
        ]:
            continue
        for target in pages(events, "list_targets_by_rule", "Targets", Rule=rule["Name"]):
            if ":lambda:" not in target["Arn"]:
                continue  # moto delivered it (queues, log groups, buses) or cannot
            try:
                configuration = functions.get_function(FunctionName=target["Arn"])["Configuration"]
            except functions.exceptions.ResourceNotFoundException:
                done.append(Delivery(rule["Name"], target["Arn"], False, reason="no such function"))
                continue
            run = IN_PROCESS_HANDLERS.get(configuration.get("Handler", ""))
            if run is None:
                reason = f"the sandbox runs only the kit's handlers ({', '.join(IN_PROCESS_HANDLERS)})"
                done.append(Delivery(rule["Name"], configuration["FunctionName"], False, reason=reason))
                continue
            try:
                result = run(event, clients)
            except Exception as error:  # the function's failure is reported, as Lambda logs it
                done.append(
                    Delivery(rule["Name"], configuration["FunctionName"], False, reason=f"failed: {error}")
                )
                continue
            done.append(Delivery(rule["Name"], configuration["FunctionName"], True, result))
    return done


def translate_targets(elbv2: Any, addresses: Mapping[tuple[str, int], tuple[str, int]]) -> Any:
    """``elbv2`` with its RegisterTargets and DeregisterTargets calls naming (IP, port) pairs of
    ``addresses`` sent as the pairs they map to (see the module doc); returns ``elbv2``."""

    def translate(params: dict[str, Any], **_: Any) -> dict[str, Any]:
        targets = []
        for target in params.get("Targets", []):
            host, port = addresses.get((target.get("Id"), int(target.get("Port") or 0)), (None, None))
            targets.append({**target, "Id": host, "Port": port} if host else target)
        return {**params, "Targets": targets}

    for operation in ("RegisterTargets", "DeregisterTargets"):
        elbv2.meta.events.register(f"provide-client-params.elastic-load-balancing-v2.{operation}", translate)
    return elbv2
