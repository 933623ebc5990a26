"""The data plane's tasks as the sandbox's ECS shows them: each task it starts is recorded, from
PROVISIONING to STOPPED (with its reason, stop code and exit code), and a service whose containers
cannot run locally gets one STOPPED task per task definition that says why."""

from __future__ import annotations

import time
from typing import Any

from ..models.ecs import report_service_task, start_service_task
from .tasks import LocalTask, ServiceState, place

NOT_LOCAL = "TaskFailedToStart"
"""The stop code of the task recorded for a service whose containers cannot run locally."""


class TaskRecords:
    """Records tasks in the sandbox's ECS of ``account`` (set once the plane knows it) in ``region``."""

    def __init__(self, region: str) -> None:
        self.account = ""
        self.region = region
        self._recorded: dict[str, tuple] = {}
        """Task ARN -> the state last recorded in ECS."""
        self._explained: set[tuple[str, str]] = set()
        """(service ARN, task definition) of the services not run locally whose reason ECS shows."""

    def start(self, service: ServiceState, capacity_provider: str | None) -> Any:
        """A PROVISIONING task of ``service`` in ECS, as its scheduler starts one (moto's task)."""
        return start_service_task(self.account, self.region, service.arn, capacity_provider)

    def record(self, task: LocalTask) -> None:
        """Record ``task``'s state in ECS when it changed since the last time."""
        state = (task.status, task.desired_status, task.stopped_reason, task.stop_code, task.exit_code)
        if not task.arn or self._recorded.get(task.arn) == state:
            return
        report_service_task(
            self.account,
            self.region,
            task.arn,
            last_status=task.status,
            desired_status=task.desired_status,
            stopped_reason=task.stopped_reason,
            stop_code=task.stop_code,
            started_at=task.started_at if task.status != "PROVISIONING" else None,
            stopping_at=task.stopping_at,
            stopped_at=task.stopped_at,
            exit_code=task.exit_code,
            network_bindings=[
                {"bindIP": "127.0.0.1", "containerPort": container, "hostPort": host, "protocol": "tcp"}
                for container, host in task.ports.items()
            ],
        )
        self._recorded[task.arn] = state

    def explain_not_local(self, service: ServiceState) -> bool:
        """One STOPPED task in ECS per task definition of a service that cannot run locally, saying
        why; whether this call recorded it (not before, and the service wants tasks)."""
        key = (service.arn, service.task_definition)
        if key in self._explained or service.desired_count == 0:
            return False
        recorded = self.start(service, place(service, []))
        report_service_task(
            self.account,
            self.region,
            recorded.task_arn,
            last_status="STOPPED",
            desired_status="STOPPED",
            stopped_reason=f"Not run by the live sandbox: {service.not_local_reason}",
            stop_code=NOT_LOCAL,
            stopped_at=time.time(),
        )
        self._explained.add(key)
        return True
