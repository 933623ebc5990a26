"""The sandbox's live data plane: what is deployed into the sandbox runs on this machine.

A thread reads the sandbox's ECS, ELBv2 and Route 53 state through its own API every
``interval_s`` seconds and makes it so: ``desiredCount`` tasks per service as local processes
(:mod:`.tasks`), registered as targets of their service's target groups, and HAProxy serving
every listener on a loopback port (:mod:`.haproxy`), reloaded when the state changes. Tasks find
each other through the private Route 53 names: a URL naming ``internal.svc.local:8080`` in a
task's environment is pointed at the loopback port of the internal ALB's listener 8080.

Every minute it publishes what was measured into the sandbox's CloudWatch (:mod:`.metrics`:
HAProxy's request log, the target groups' health, the tasks' CPU and memory from their
processes) and then evaluates the target-tracking policies on it (:mod:`.autoscaling`); the
scheduled actions run at their minute (:mod:`.schedule`).

Each task is placed on a capacity provider of its service's strategy and recorded in the
sandbox's ECS, so ``ListTasks`` and ``DescribeTasks`` show it from PROVISIONING to STOPPED (with
its reason, stop code and exit code); a service whose containers cannot run locally gets one
STOPPED task (stop code ``TaskFailedToStart``) per task definition that says why. Fargate Spot
interruptions asked for through the sandbox's API are carried out as AWS does
(:mod:`.interruptions`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...errors import DataPlaneError
from ...target import Target
from .access_log import AccessLog
from .autoscaling import Autoscaler, policy_series, read_policies
from .certificate import issue_certificate
from .ecs_records import TaskRecords
from .haproxy import HAProxy, check_installed
from .interruptions import (
    SPOT,
    SPOT_INTERRUPTION,
    SPOT_REASON,
    Delivery,
    deliver,
    interruption_event,
    take_requests,
    translate_targets,
)
from .measure import Measurer, balancer_of_listener
from .model import DataPlaneConfig
from .registration import any_target_down, deregister, register, task_targets
from .schedule import Scheduler
from .state import private_names, read_config, rewrite_private_urls
from .tasks import (
    Limits,
    LocalTask,
    ServiceState,
    free_port,
    machine_limits,
    place,
    read_services,
    refresh,
    start_task,
    stop_task,
    warn_stop,
)
from .urls import ListenerUrl, mark_live, publish_urls

CRASH_LIMIT = 3
"""Tasks of one service that stop before they ever run, in a row, before the plane stops replacing
them and reports the service as crashing (ECS would keep retrying with a back-off)."""
CLIENTS = ("ecs", "ecr", "elbv2", "route53", "secretsmanager", "ssm", "cloudwatch", "application-autoscaling")
"""The sandbox's services the plane reads and writes through its API."""


class DataPlane:
    """Keeps the sandbox's deployed services running locally; see the module doc.

    :param target: the sandbox (its endpoint and region).
    :param interval_s: seconds between two reconciliations (default 2).
    :param report: called with one line per event (task started, stopped, crashing; default: stderr).
    :param stacks: run only these stacks (default all): sandboxes in one process share moto's state.
    :param interruption_grace_s: seconds an interrupted Spot task has between its SIGTERM and its
        SIGKILL (default 120, Fargate Spot's warning; tests shorten it).
    """

    def __init__(
        self,
        target: Target,
        *,
        interval_s: float = 2.0,
        report: Callable[[str], None] | None = None,
        stacks: Iterable[str] | None = None,
        interruption_grace_s: float = 120.0,
    ) -> None:
        self.target = target
        self.interruption_grace_s = interruption_grace_s
        """Seconds between an interrupted Spot task's SIGTERM and its SIGKILL (default 120)."""
        self.interruptions: list[tuple[str, list[Delivery]]] = []
        """(task ARN, what each Lambda target did with its event) per Spot interruption, oldest first."""
        self.stacks = frozenset(stacks) if stacks is not None else None
        """Only these stacks' services and load balancers run (default: every stack in the sandbox)."""
        self.interval_s = interval_s
        self.report = report or (lambda line: print(f"live: {line}", file=sys.stderr, flush=True))
        self._folder = tempfile.TemporaryDirectory(prefix="dualalb-live-")
        self.log_dir = Path(self._folder.name)
        self.certificate = issue_certificate(self.log_dir / "tls", target.region)
        """What the HTTPS and TLS listeners present; ``certificate.ca_file`` verifies them."""
        self._clients = {name: target.client(name) for name in CLIENTS}
        self._listener_ports: dict[str, int] = {}
        self._tasks: dict[str, list[LocalTask]] = {}
        self._crashes: dict[str, int] = {}
        self._services: list[ServiceState] = []
        self._records = TaskRecords(target.region)
        self._ticks = 0
        self._environments: dict[str, dict[str, str]] = {}
        self._names: dict[str, str] = {}
        self._last_view: Any = None
        self._stable_ticks = 0
        """Reconciliations in a row that found the same listeners, targets and task environments."""
        self._haproxy = HAProxy()
        self._access_log: AccessLog | None = None
        self._measurer = Measurer()
        self.recent_requests = self._measurer.recent_requests
        """The latest requests HAProxy logged: (load balancer name, listener port, record), oldest first."""
        self.limits = Limits(None, "the data plane has not started")
        """Whether tasks run with their task definition's CPU and memory as cgroup limits (set by
        :meth:`start`; ``limits.applied``, and ``limits.reason`` when they do not apply)."""
        self.autoscaler, self.scheduler = self._scaling()
        self._config: DataPlaneConfig | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        """Why the data plane stopped working (HAProxy crashed, ...), else None."""

    def _scaling(self) -> tuple[Autoscaler, Scheduler]:
        """What changes the services' desired counts: target tracking on the published metrics, and
        the scheduled actions."""
        autoscaler = Autoscaler(
            lambda policy, minutes: policy_series(
                self._clients["cloudwatch"], policy, minutes, datetime.now(UTC)
            ),
            self._set_desired,
            self.report,
        )
        scheduler = Scheduler(
            self._clients["application-autoscaling"],
            self._desired_count,
            self._set_desired,
            autoscaler.record,
            self.report,
        )
        return autoscaler, scheduler

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> DataPlane:
        check_installed()
        self.limits = machine_limits()
        if not self.limits.applied:
            self.report(f"tasks run without CPU and memory limits: {self.limits.reason}")
        self._access_log = AccessLog()
        self._records.account = self.target.client("sts").get_caller_identity()["Account"]
        mark_live(self._clients["ssm"], self.certificate.ca_file)
        self._thread = threading.Thread(target=self._run, name="dualalb-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop, every task process and HAProxy; nothing of the plane keeps running."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        with self._lock:
            for tasks in self._tasks.values():
                for task in tasks:
                    stop_task(task, "The sandbox stopped", timeout=5)
        self._haproxy.stop()
        if self._access_log is not None:
            self._access_log.close()
        self._folder.cleanup()

    def wait_settled(self, timeout: float = 60.0) -> bool:
        """Wait until every runnable service runs its desired count of RUNNING tasks, HAProxy
        serves them, and nothing changed for two reconciliations; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        first = self._ticks + 2  # a whole reconciliation that started after this call
        while time.monotonic() < deadline:
            if self._ticks >= first and self._settled():
                return True
            time.sleep(0.2)
        return False

    # -- what users see --------------------------------------------------------------------------
    def urls(self) -> list[ListenerUrl]:
        """Every listener's local URL, by load balancer and port."""
        config = self._config
        if config is None:
            return []
        return [
            ListenerUrl(
                listener.load_balancer,
                listener.port,
                f"{'https' if listener.protocol == 'HTTPS' else 'http'}://127.0.0.1:{listener.local_port}",
            )
            for listener in config.listeners
        ]

    def tasks(self) -> list[LocalTask]:
        """Every task the plane started, running or stopped, oldest first."""
        with self._lock:
            return sorted((t for ts in self._tasks.values() for t in ts), key=lambda t: t.started_at)

    # -- the loop --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as error:  # the sandbox is stopping, or a state it cannot read yet
                if self._stop.is_set():
                    return
                self.report(f"reconcile failed, retrying: {type(error).__name__}: {error}")
            self._stop.wait(self.interval_s)

    def _local_port(self, listener_arn: str) -> int:
        if listener_arn not in self._listener_ports:
            self._listener_ports[listener_arn] = free_port()
        return self._listener_ports[listener_arn]

    def _read_config(self) -> DataPlaneConfig:
        assert self._access_log is not None, "start() opens the access log first"
        config = read_config(
            self._clients["elbv2"],
            self._local_port,
            log_port=self._access_log.port,
            certificate_pem=str(self.certificate.server_pem),
        )
        if self.stacks is None:
            return config
        mine = self._stack_resources()
        return dataclasses.replace(
            config,
            listeners=tuple(listener for listener in config.listeners if listener.arn in mine),
            target_groups=tuple(group for group in config.target_groups if group.arn in mine),
        )

    def _stack_resources(self) -> set[str]:
        """Physical ids of every resource of :attr:`stacks` (those that exist)."""
        cloudformation = self.target.client("cloudformation")
        found: set[str] = set()
        for stack in self.stacks or ():
            try:
                pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
                found |= {
                    r.get("PhysicalResourceId", "") for page in pages for r in page["StackResourceSummaries"]
                }
            except cloudformation.exceptions.ClientError:
                continue  # not deployed (yet, or any more)
        return found

    def _tick(self) -> None:
        with self._lock:
            config = self._read_config()
            names = private_names(self._clients["route53"], self._clients["elbv2"])
            if names != self._names:
                self.report(
                    f"private names: {', '.join(f'{k} -> {v}' for k, v in sorted(names.items())) or 'none'}"
                )
                self._names = names
            services = read_services(
                self._clients["ecs"], self._clients["ecr"], self._clients["secretsmanager"]
            )
            if self.stacks is not None:
                mine = self._stack_resources()
                services = [service for service in services if service.arn in mine]
            self._services = services
            states = self._haproxy.server_states() if self._haproxy.pid is not None else {}
            for service in services:
                self._reconcile(
                    service, lambda env: rewrite_private_urls(env, names, config.listeners), states
                )
            live = {service.arn for service in services}
            for arn in [arn for arn in self._tasks if arn not in live]:
                for task in self._tasks[arn]:
                    if task.status != "STOPPED":
                        self._stop_task(task, "Service was deleted")
                        self._records.record(task)
            config = self._serve()
            owned = {t.arn: t for ts in self._tasks.values() for t in ts if t.arn}
            for arn in take_requests(self._clients["ssm"], owned.__contains__):
                try:
                    self._interrupt(owned[arn])
                except Exception as error:  # one failed interruption leaves the others and the tick
                    self.report(f"Spot interruption of task {arn.rsplit('/', 1)[-1][:8]} failed: {error}")
                config = self._config or config
            self._measure(services, config)
            self.scheduler.evaluate(datetime.now(UTC), {f"service/{s.cluster}/{s.name}" for s in services})
            view = (config, sorted((arn, sorted(env.items())) for arn, env in self._environments.items()))
            self._stable_ticks = self._stable_ticks + 1 if view == self._last_view else 0
            self._last_view = view
            self._ticks += 1

    def _serve(self) -> DataPlaneConfig:
        """Read the load balancers' state and have HAProxy serve it (reloaded when it changed)."""
        config = self._read_config()
        failure = self._haproxy.failure()
        if failure and not self.failure:  # reported once, never restarted behind the user's back
            self.failure = f"HAProxy stopped: {failure}; restart the sandbox"
            self.report(self.failure)
        if config != self._config and not self.failure:
            if self._haproxy.pid is not None:
                self._haproxy.reload(config)
            else:
                self._haproxy.start(config)
            self._config = config
            publish_urls(self._clients["elbv2"], self._balancer_arns(), self.urls())
        return config

    # -- Spot interruptions (:mod:`.interruptions`) ----------------------------------------------
    def _interrupt(self, task: LocalTask) -> None:
        """ECS's two-minute warning for ``task``: recorded, its event delivered (the kit's handler
        deregisters it), HAProxy reloaded with what ELBv2 then holds, SIGTERM, SIGKILL after
        :attr:`interruption_grace_s`; its service replaces it on the next reconciliation."""
        if task.capacity_provider != SPOT or task.status != "RUNNING" or task.desired_status != "RUNNING":
            self.report(
                f"{task.service.name} task {task.task_id[:8]}: not a running {SPOT} task, not interrupted"
            )
            return
        warn_stop(task, SPOT_REASON, SPOT_INTERRUPTION, self.interruption_grace_s)
        self._records.record(task)
        (described,) = self._clients["ecs"].describe_tasks(cluster=task.service.cluster, tasks=[task.arn])[
            "tasks"
        ]
        event = interruption_event(described, self._records.account, self.target.region, str(uuid.uuid4()))
        addresses = {
            (item["value"], container_port): ("127.0.0.1", host_port)
            for attachment in described.get("attachments", [])
            for item in attachment.get("details", [])
            if item.get("name") == "privateIPv4Address"
            for container_port, host_port in task.ports.items()
        }

        def client(name: str) -> Any:
            made = self.target.client(name)
            return translate_targets(made, addresses) if name == "elbv2" else made

        deliveries = deliver(event, client)
        self._serve()  # what the handler deregistered leaves HAProxy before the task gets SIGTERM
        refresh(task)
        self.interruptions.append((task.arn, deliveries))
        self.report(
            f"{task.service.name} task {task.task_id[:8]} interrupted (Spot): event delivered"
            + "".join(f"; {delivery}" for delivery in deliveries)
        )

    def _explain_not_local(self, service: ServiceState) -> None:
        """One STOPPED task in ECS per task definition of a service that cannot run locally, saying why."""
        if self._records.explain_not_local(service):
            self.report(f"{service.name}: not run locally ({service.not_local_reason})")

    # -- measurements, every tick; published and acted on once a minute -------------------------
    def _measure(self, services: list[ServiceState], config: DataPlaneConfig) -> None:
        now = datetime.now(UTC)
        assert self._access_log is not None
        self._measurer.add_records(self._access_log.drain(), self._haproxy.names, config)
        states = self._haproxy.server_states() if self._haproxy.pid is not None else {}
        self._measurer.sample_target_groups(now, config, states)
        self._measurer.sample_services(now, services, self._tasks)
        if self._measurer.publish(self._clients["cloudwatch"], now):
            desired = {f"service/{s.cluster}/{s.name}": s.desired_count for s in services}
            self.autoscaler.evaluate(
                read_policies(self._clients["application-autoscaling"]), desired, time.monotonic()
            )

    def _desired_count(self, resource_id: str) -> int:
        """The desired count of the ECS service ``service/<cluster>/<service>``."""
        _, cluster, service = resource_id.split("/", 2)
        return self._clients["ecs"].describe_services(cluster=cluster, services=[service])["services"][0][
            "desiredCount"
        ]

    def _set_desired(self, resource_id: str, count: int) -> None:
        _, cluster, service = resource_id.split("/", 2)
        self._clients["ecs"].update_service(cluster=cluster, service=service, desiredCount=count)

    # -- the services' tasks --------------------------------------------------------------------
    def _reconcile(self, service: ServiceState, rewrite: Callable[[dict], dict], states: dict) -> None:
        """Make ``service`` run its desired count of tasks with the task definition and the
        environment it has now (``rewrite`` points its private URLs at loopback): new tasks first,
        then the outdated and the surplus ones stopped."""
        tasks = self._tasks.setdefault(service.arn, [])
        for task in tasks:
            self._follow(service, task, states)
        if not service.containers:
            self._explain_not_local(service)
            return
        if self._crashing(service):
            return
        environment = rewrite(dict(service.containers[0].environment))
        self._environments[service.arn] = environment
        active = [t for t in tasks if t.desired_status != "STOPPED"]  # an interrupted task is replaced
        current = [t for t in active if self._up_to_date(t, service)]
        self._start_missing(service, environment, current, tasks)
        outdated = [t for t in active if not self._up_to_date(t, service)]
        self._replace_outdated(service, environment, outdated, current)
        self._scale_in(service, current)
        self._tasks[service.arn] = [
            t for t in tasks if t.status != "STOPPED" or time.time() - t.started_at < 3600
        ]

    def _follow(self, service: ServiceState, task: LocalTask, states: dict) -> None:
        """Advance ``task``: its targets registered once it runs and deregistered once it stopped (a
        task that stopped before it ran counts as a crash), stopped when it fails its health
        checks; its state recorded in ECS."""
        was = task.status
        refresh(task)
        if task.status == "RUNNING" and was == "PROVISIONING":
            register(self._clients["elbv2"], task)
            self._crashes[service.arn] = 0
            self.report(f"{service.name} task {task.task_id[:8]} RUNNING on {self._where(task)}")
        elif task.status == "STOPPED" and was != "STOPPED":
            deregister(self._clients["elbv2"], task)
            if was == "PROVISIONING":
                self._crashes[service.arn] = self._crashes.get(service.arn, 0) + 1
            self.report(f"{service.name} task {task.task_id[:8]} STOPPED: {task.stopped_reason}")
        elif task.status == "RUNNING" and self._failed_health_checks(task, states):
            group = task.service.load_balancers[0][0]
            self._stop_task(task, f"Task failed ELB health checks in (target-group {group})")
        self._records.record(task)

    def _crashing(self, service: ServiceState) -> bool:
        """Whether :data:`CRASH_LIMIT` tasks of ``service`` in a row stopped before running (said once)."""
        crashes = self._crashes.get(service.arn, 0)
        if crashes < CRASH_LIMIT:
            return False
        if crashes == CRASH_LIMIT:
            self._crashes[service.arn] += 1
            self.report(
                f"{service.name}: {CRASH_LIMIT} tasks in a row stopped before running; "
                f"not replacing them (logs in {self.log_dir})"
            )
        return True

    def _start_missing(
        self,
        service: ServiceState,
        environment: dict[str, str],
        current: list[LocalTask],
        tasks: list[LocalTask],
    ) -> None:
        """Start tasks until ``service`` has its desired count of ``current`` ones, each placed on
        a capacity provider of its strategy and recorded in ECS; each is added to ``current`` and
        to the service's ``tasks`` as it starts."""
        for _ in range(service.desired_count - len(current)):
            provider = place(service, [t.capacity_provider for t in current])
            recorded = self._records.start(service, provider)
            task = start_task(
                service,
                self.log_dir,
                environment,
                limits=self.limits,
                capacity_provider=provider,
                task_id=recorded.id,
            )
            task.arn = recorded.task_arn
            self._records.record(task)
            tasks.append(task)
            current.append(task)
            where = f" on {provider}" if provider else ""
            self.report(f"{service.name} task {task.task_id[:8]} PROVISIONING{where} ({task.log_path.name})")

    def _replace_outdated(
        self,
        service: ServiceState,
        environment: dict[str, str],
        outdated: list[LocalTask],
        current: list[LocalTask],
    ) -> None:
        """Stop the ``outdated`` tasks once the desired count of ``current`` ones runs (the new
        tasks serve first), saying what changed."""
        if not outdated or len([t for t in current if t.status == "RUNNING"]) < service.desired_count:
            return
        for task in outdated:
            changed = sorted(
                k for k in {*task.environment, *environment} if task.environment.get(k) != environment.get(k)
            )
            why = f"its environment changed ({', '.join(changed)})" if changed else "a new task definition"
            self._stop_task(task, f"Deployment replaced this task: {why}")

    def _scale_in(self, service: ServiceState, current: list[LocalTask]) -> None:
        """Stop the newest of ``current`` beyond the desired count."""
        surplus = max(0, len(current) - service.desired_count)
        for task in sorted(current, key=lambda t: t.started_at, reverse=True)[:surplus]:
            self._stop_task(task, "Scaling activity initiated by (deployment or desired count change)")

    def _balancer_arns(self) -> dict[str, str]:
        """Name -> ARN of the load balancers this plane serves."""
        served = (
            {balancer_of_listener(listener.arn) for listener in self._config.listeners}
            if self._config
            else set()
        )
        pages = self._clients["elbv2"].get_paginator("describe_load_balancers").paginate()
        return {
            b["LoadBalancerName"]: b["LoadBalancerArn"]
            for page in pages
            for b in page["LoadBalancers"]
            if self.stacks is None or b["LoadBalancerArn"] in served
        }

    # -- targets ---------------------------------------------------------------------------------
    def _stop_task(self, task: LocalTask, reason: str) -> None:
        """Drain the task in HAProxy (no new requests), deregister it, then stop it."""
        if self._haproxy.pid is not None:
            for group, targets in task_targets(task).items():
                for target in targets:
                    with contextlib.suppress(DataPlaneError):  # a target group HAProxy no longer serves
                        self._haproxy.drain(group, f"{target['Id']}:{target['Port']}")
        deregister(self._clients["elbv2"], task)
        stop_task(task, reason, timeout=5)
        self.report(f"{task.service.name} task {task.task_id[:8]} STOPPED: {task.stopped_reason}")

    def _failed_health_checks(self, task: LocalTask, states: dict) -> bool:
        grace = max(10.0, 2 * self.interval_s)
        if time.time() - task.started_at < grace:
            return False
        return any_target_down(task, states)

    def _where(self, task: LocalTask) -> str:
        return ", ".join(f"127.0.0.1:{port}" for port in task.ports.values()) or "no port"

    def _up_to_date(self, task: LocalTask, service: ServiceState) -> bool:
        """Whether ``task`` runs ``service``'s task definition with the environment it needs now."""
        return (
            task.service.task_definition == service.task_definition
            and task.environment == self._environments.get(service.arn)
        )

    def _settled(self) -> bool:
        with self._lock:
            if self._config is None or self._stable_ticks < 2:
                return False
            for service in self._services:
                tasks = [t for t in self._tasks.get(service.arn, []) if t.status != "STOPPED"]
                current = [t for t in tasks if self._up_to_date(t, service)]
                if any(t.status != "RUNNING" for t in tasks) or len(current) != len(tasks):
                    return False
                if service.containers and len(current) != service.desired_count:
                    return False
            return True
