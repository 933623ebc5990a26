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

import collections
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

import psutil

from ...errors import DataPlaneError
from ...target import Target
from ..models.ecs import report_service_task, start_service_task
from .access_log import AccessLog, Record
from .autoscaling import Autoscaler, policy_series, read_policies
from .certificate import issue_certificate
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
from .metrics import LiveMetrics, Request
from .model import DataPlaneConfig
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
NOT_LOCAL = "TaskFailedToStart"
"""The stop code of the task recorded for a service whose containers cannot run locally."""


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
        services = (
            "ecs",
            "ecr",
            "elbv2",
            "route53",
            "secretsmanager",
            "ssm",
            "cloudwatch",
            "events",
            "lambda",
        )
        self._clients = {name: target.client(name) for name in (*services, "application-autoscaling")}
        self._listener_ports: dict[str, int] = {}
        self._tasks: dict[str, list[LocalTask]] = {}
        self._crashes: dict[str, int] = {}
        self._services: list[ServiceState] = []
        self._account = ""
        self._recorded: dict[str, tuple] = {}
        """Task ARN -> the state last recorded in ECS."""
        self._explained: set[tuple[str, str]] = set()
        """(service ARN, task definition) of the services not run locally whose reason ECS shows."""
        self._ticks = 0
        self._environments: dict[str, dict[str, str]] = {}
        self._names: dict[str, str] = {}
        self._last_view: Any = None
        self._stable_ticks = 0
        """Reconciliations in a row that found the same listeners, targets and task environments."""
        self._haproxy = HAProxy()
        self._access_log: AccessLog | None = None
        self._metrics = LiveMetrics()
        self.recent_requests: collections.deque[tuple[str, int, Record]] = collections.deque(maxlen=10_000)
        """The latest requests HAProxy logged: (load balancer name, listener port, record), oldest first."""
        self._published_minutes = 0
        self._cpu_seen: dict[str, tuple[float, float]] = {}
        """Task id -> (when, its process tree's CPU seconds then): the last CPU reading."""
        self.limits = Limits(None, "the data plane has not started")
        """Whether tasks run with their task definition's CPU and memory as cgroup limits (set by
        :meth:`start`; ``limits.applied``, and ``limits.reason`` when they do not apply)."""
        self.autoscaler = Autoscaler(
            lambda policy, minutes: policy_series(
                self._clients["cloudwatch"], policy, minutes, datetime.now(UTC)
            ),
            self._set_desired,
            self.report,
        )
        self.scheduler = Scheduler(
            self._clients["application-autoscaling"],
            self._desired_count,
            self._set_desired,
            self.autoscaler.record,
            self.report,
        )
        self._config: DataPlaneConfig | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        """Why the data plane stopped working (HAProxy crashed, ...), else None."""

    # -- life ------------------------------------------------------------------------------------
    def start(self) -> DataPlane:
        check_installed()
        self.limits = machine_limits()
        if not self.limits.applied:
            self.report(f"tasks run without CPU and memory limits: {self.limits.reason}")
        self._access_log = AccessLog()
        self._account = self.target.client("sts").get_caller_identity()["Account"]
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
                        self._record(task)
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
        self._record(task)
        (described,) = self._clients["ecs"].describe_tasks(cluster=task.service.cluster, tasks=[task.arn])[
            "tasks"
        ]
        event = interruption_event(described, self._account, self.target.region, str(uuid.uuid4()))
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

    def _record(self, task: LocalTask) -> None:
        """Record ``task``'s state in the sandbox's ECS when it changed (see the module doc)."""
        state = (task.status, task.desired_status, task.stopped_reason, task.stop_code, task.exit_code)
        if not task.arn or self._recorded.get(task.arn) == state:
            return
        report_service_task(
            self._account,
            self.target.region,
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

    def _explain_not_local(self, service: ServiceState) -> None:
        """One STOPPED task in ECS per task definition of a service that cannot run locally, saying why."""
        key = (service.arn, service.task_definition)
        if key in self._explained or service.desired_count == 0:
            return
        recorded = start_service_task(self._account, self.target.region, service.arn, place(service, []))
        report_service_task(
            self._account,
            self.target.region,
            recorded.task_arn,
            last_status="STOPPED",
            desired_status="STOPPED",
            stopped_reason=f"Not run by the live sandbox: {service.not_local_reason}",
            stop_code=NOT_LOCAL,
            stopped_at=time.time(),
        )
        self._explained.add(key)
        self.report(f"{service.name}: not run locally ({service.not_local_reason})")

    # -- measurements, every tick; published and acted on once a minute -------------------------
    def _measure(self, services: list[ServiceState], config: DataPlaneConfig) -> None:
        now = datetime.now(UTC)
        assert self._access_log is not None
        records = self._access_log.drain()
        served = {listener.arn: (listener.load_balancer, listener.port) for listener in config.listeners}
        names = self._haproxy.names
        for record in records:
            listener = names.listener_arn(record.listener)
            if listener in served:
                self.recent_requests.append((*served[listener], record))
        self._metrics.add_requests([r for r in map(self._request, records) if r])
        states = self._haproxy.server_states() if self._haproxy.pid is not None else {}
        balancer_of_group = _balancers_of_groups(config)
        for group in config.target_groups:
            found = [states.get((group.arn, f"{t.host}:{t.port}")) for t in group.targets]
            for balancer in balancer_of_group.get(group.arn, ()):
                self._metrics.sample_target_group(
                    now, balancer, group.arn, healthy=found.count("UP"), unhealthy=found.count("DOWN")
                )
        running_ids = {t.task_id for ts in self._tasks.values() for t in ts if t.status == "RUNNING"}
        for task_id in [task_id for task_id in self._cpu_seen if task_id not in running_ids]:
            del self._cpu_seen[task_id]
        for service in services:
            running = [t for t in self._tasks.get(service.arn, []) if t.status == "RUNNING"]
            usage = [self._usage(task) for task in running]
            cpu = [c for c, _ in usage if c is not None]
            memory = [m for _, m in usage if m is not None]
            self._metrics.sample_service(
                now,
                service.cluster,
                service.name,
                cpu_percent=sum(cpu) / len(cpu) if cpu else None,
                memory_percent=sum(memory) / len(memory) if memory else None,
                running=len(running),
                desired=service.desired_count,
            )
        published = self._metrics.complete_minutes(now)
        for namespace, items in published.items():
            for start in range(0, len(items), 500):
                self._clients["cloudwatch"].put_metric_data(
                    Namespace=namespace, MetricData=items[start : start + 500]
                )
        if published:
            self._published_minutes += 1
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

    def _request(self, record: Record) -> Request | None:
        """A logged request as the metrics count it (None for a listener that is gone)."""
        names = self._haproxy.names
        listener = names.listener_arn(record.listener)
        if listener is None:
            return None
        group = names.target_group_arn(record.target_group) if record.target_group else None
        return Request(
            record.time,
            _balancer_of_listener(listener),
            group,
            record.status or 0,
            None if record.response_ms is None else record.response_ms / 1000,
            record.from_haproxy,
        )

    def _usage(self, task: LocalTask) -> tuple[float | None, float | None]:
        """The task's CPU since the last reading and its memory now, in percent of its task
        definition's (its process tree, :func:`process_tree_usage`; CPU None on the first reading)."""
        now = time.monotonic()
        usage = process_tree_usage(task.process.pid)
        if usage is None:
            return None, None
        seconds, rss = usage
        last = self._cpu_seen.get(task.task_id)
        self._cpu_seen[task.task_id] = (now, seconds)
        cores = task.service.cpu_units / 1024
        memory = 100 * rss / (task.service.memory_mib * 2**20)
        if last is None or now <= last[0]:
            return None, memory
        return 100 * max(0.0, seconds - last[1]) / (now - last[0]) / cores, memory

    def _reconcile(self, service: ServiceState, rewrite: Callable[[dict], dict], states: dict) -> None:
        tasks = self._tasks.setdefault(service.arn, [])
        for task in tasks:
            was = task.status
            refresh(task)
            if task.status == "RUNNING" and was == "PROVISIONING":
                self._register(task)
                self._crashes[service.arn] = 0
                self.report(f"{service.name} task {task.task_id[:8]} RUNNING on {self._where(task)}")
            elif task.status == "STOPPED" and was != "STOPPED":
                self._deregister(task)
                if was == "PROVISIONING":
                    self._crashes[service.arn] = self._crashes.get(service.arn, 0) + 1
                self.report(f"{service.name} task {task.task_id[:8]} STOPPED: {task.stopped_reason}")
            elif task.status == "RUNNING" and self._failed_health_checks(task, states):
                self._stop_task(
                    task, f"Task failed ELB health checks in (target-group {self._groups(task)[0]})"
                )
            self._record(task)
        if not service.containers:
            self._explain_not_local(service)
            return
        if self._crashes.get(service.arn, 0) >= CRASH_LIMIT:
            if self._crashes[service.arn] == CRASH_LIMIT:
                self._crashes[service.arn] += 1
                self.report(
                    f"{service.name}: {CRASH_LIMIT} tasks in a row stopped before running; "
                    f"not replacing them (logs in {self.log_dir})"
                )
            return
        environment = rewrite(dict(service.containers[0].environment))
        self._environments[service.arn] = environment
        active = [t for t in tasks if t.desired_status != "STOPPED"]  # an interrupted task is replaced

        def up_to_date(task: LocalTask) -> bool:
            return self._up_to_date(task, service)

        current = [t for t in active if up_to_date(t)]
        for _ in range(service.desired_count - len(current)):
            provider = place(service, [t.capacity_provider for t in current])
            recorded = start_service_task(self._account, self.target.region, service.arn, provider)
            task = start_task(
                service,
                self.log_dir,
                environment,
                limits=self.limits,
                capacity_provider=provider,
                task_id=recorded.id,
            )
            task.arn = recorded.task_arn
            self._record(task)
            tasks.append(task)
            current.append(task)
            where = f" on {provider}" if provider else ""
            self.report(f"{service.name} task {task.task_id[:8]} PROVISIONING{where} ({task.log_path.name})")
        old = [t for t in active if not up_to_date(t)]
        running_current = [t for t in current if t.status == "RUNNING"]
        if old and len(running_current) >= service.desired_count:  # the new tasks serve first
            for task in old:
                changed = sorted(
                    k
                    for k in {*task.environment, *environment}
                    if task.environment.get(k) != environment.get(k)
                )
                why = (
                    f"its environment changed ({', '.join(changed)})" if changed else "a new task definition"
                )
                self._stop_task(task, f"Deployment replaced this task: {why}")
        for task in sorted(current, key=lambda t: t.started_at, reverse=True)[
            : max(0, len(current) - service.desired_count)
        ]:
            self._stop_task(task, "Scaling activity initiated by (deployment or desired count change)")
        self._tasks[service.arn] = [
            t for t in tasks if t.status != "STOPPED" or time.time() - t.started_at < 3600
        ]

    def _balancer_arns(self) -> dict[str, str]:
        """Name -> ARN of the load balancers this plane serves."""
        served = (
            {_balancer_of_listener(listener.arn) for listener in self._config.listeners}
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
    def _groups(self, task: LocalTask) -> list[str]:
        return [arn for arn, _, _ in task.service.load_balancers]

    def _targets(self, task: LocalTask) -> dict[str, list[dict[str, Any]]]:
        targets: dict[str, list[dict[str, Any]]] = {}
        for group, _, container_port in task.service.load_balancers:
            if container_port in task.ports:
                targets.setdefault(group, []).append({"Id": "127.0.0.1", "Port": task.ports[container_port]})
        return targets

    def _register(self, task: LocalTask) -> None:
        for group, targets in self._targets(task).items():
            self._clients["elbv2"].register_targets(TargetGroupArn=group, Targets=targets)

    def _deregister(self, task: LocalTask) -> None:
        for group, targets in self._targets(task).items():
            try:
                self._clients["elbv2"].deregister_targets(TargetGroupArn=group, Targets=targets)
            except self._clients["elbv2"].exceptions.TargetGroupNotFoundException:
                pass  # the stack's delete took the target group first
            except self._clients["elbv2"].exceptions.InvalidTargetException:
                pass  # deregistered already (by the Spot termination handler)

    def _stop_task(self, task: LocalTask, reason: str) -> None:
        """Drain the task in HAProxy (no new requests), deregister it, then stop it."""
        if self._haproxy.pid is not None:
            for group, targets in self._targets(task).items():
                for target in targets:
                    with contextlib.suppress(DataPlaneError):  # a target group HAProxy no longer serves
                        self._haproxy.drain(group, f"{target['Id']}:{target['Port']}")
        self._deregister(task)
        stop_task(task, reason, timeout=5)
        self.report(f"{task.service.name} task {task.task_id[:8]} STOPPED: {task.stopped_reason}")

    def _failed_health_checks(self, task: LocalTask, states: dict) -> bool:
        grace = max(10.0, 2 * self.interval_s)
        if time.time() - task.started_at < grace:
            return False
        keys = [(group, f"127.0.0.1:{t['Port']}") for group, ts in self._targets(task).items() for t in ts]
        return any(states.get(key) == "DOWN" for key in keys)

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


def process_tree_usage(pid: int) -> tuple[float, int] | None:
    """CPU seconds and resident bytes of the process ``pid`` and its descendants; None once gone.

    The CPU seconds are cumulative: each live process's user and system time plus what its reaped
    children used. The difference of two readings is the tree's CPU between them: a process that
    started in between counts from its start, one that ended counts until it ended (once its
    parent reaped it). (psutil's ``cpu_percent(None)`` is 0.0 on a process's first reading, so a
    tree read through new Process objects each time would never count its children.)
    """
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return None
    seconds, rss = 0.0, 0
    for member in members:
        try:
            with member.oneshot():
                times = member.cpu_times()
                rss += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
        seconds += times.user + times.system + times.children_user + times.children_system
    return seconds, rss


def _balancer_of_listener(listener_arn: str) -> str:
    """``...:listener/app/<name>/<id>/<listener id>`` -> ``...:loadbalancer/app/<name>/<id>``."""
    prefix, _, path = listener_arn.partition(":listener/")
    return f"{prefix}:loadbalancer/{path.rsplit('/', 1)[0]}"


def _balancers_of_groups(config: DataPlaneConfig) -> dict[str, set[str]]:
    """Target group ARN -> the load balancers whose listeners forward to it."""
    found: dict[str, set[str]] = {}
    for listener in config.listeners:
        for action in (listener.default_action, *(rule.action for rule in listener.rules)):
            for group, _ in action.forwards:
                found.setdefault(group, set()).add(_balancer_of_listener(listener.arn))
    return found
