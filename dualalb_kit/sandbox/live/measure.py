"""What the data plane measures every reconciliation, and publishes into the sandbox's CloudWatch
once a minute (:mod:`.metrics` gives it AWS's shapes): the requests HAProxy logged, the target
groups' health, and the CPU and memory of each task's process tree."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psutil

from .access_log import Record
from .haproxy_names import Names
from .metrics import LiveMetrics, Request
from .model import DataPlaneConfig
from .tasks import LocalTask, ServiceState

PUT_METRIC_DATA_ITEMS = 500
"""PutMetricData's limit on items in one call."""


class Measurer:
    """The measurements of one data plane: requests, target health and task usage, sampled by the
    plane and published per complete minute (:meth:`publish`)."""

    def __init__(self) -> None:
        self.recent_requests: collections.deque[tuple[str, int, Record]] = collections.deque(maxlen=10_000)
        """The latest requests HAProxy logged: (load balancer name, listener port, record), oldest first."""
        self._metrics = LiveMetrics()
        self._cpu_seen: dict[str, tuple[float, float]] = {}
        """Task id -> (when, its process tree's CPU seconds then): the last CPU reading."""

    def add_records(self, records: list[Record], names: Names, config: DataPlaneConfig) -> None:
        """Requests HAProxy logged, as ``names`` (what it served then) maps them to ``config``'s
        listeners; those of a listener that is gone count for neither."""
        served = {listener.arn: (listener.load_balancer, listener.port) for listener in config.listeners}
        for record in records:
            listener = names.listener_arn(record.listener)
            if listener in served:
                self.recent_requests.append((*served[listener], record))
        self._metrics.add_requests([r for r in (_request(record, names) for record in records) if r])

    def sample_target_groups(
        self, now: datetime, config: DataPlaneConfig, states: dict[tuple[str, str], str]
    ) -> None:
        """Healthy and unhealthy targets of each target group (``states`` from HAProxy), per load
        balancer that forwards to it."""
        balancer_of_group = balancers_of_groups(config)
        for group in config.target_groups:
            found = [states.get((group.arn, f"{t.host}:{t.port}")) for t in group.targets]
            for balancer in balancer_of_group.get(group.arn, ()):
                self._metrics.sample_target_group(
                    now, balancer, group.arn, healthy=found.count("UP"), unhealthy=found.count("DOWN")
                )

    def sample_services(
        self, now: datetime, services: Iterable[ServiceState], tasks: dict[str, list[LocalTask]]
    ) -> None:
        """Each service's running and desired counts and its running tasks' average CPU and memory
        (``tasks``: service ARN -> the tasks the plane started)."""
        running_ids = {t.task_id for ts in tasks.values() for t in ts if t.status == "RUNNING"}
        for task_id in [task_id for task_id in self._cpu_seen if task_id not in running_ids]:
            del self._cpu_seen[task_id]
        for service in services:
            running = [t for t in tasks.get(service.arn, []) if t.status == "RUNNING"]
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

    def publish(self, cloudwatch: Any, now: datetime) -> bool:
        """Put every complete minute's metrics into CloudWatch; whether there was one."""
        published = self._metrics.complete_minutes(now)
        for namespace, items in published.items():
            for start in range(0, len(items), PUT_METRIC_DATA_ITEMS):
                cloudwatch.put_metric_data(
                    Namespace=namespace, MetricData=items[start : start + PUT_METRIC_DATA_ITEMS]
                )
        return bool(published)

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


def _request(record: Record, names: Names) -> Request | None:
    """A logged request as the metrics count it (None for a listener that is gone)."""
    listener = names.listener_arn(record.listener)
    if listener is None:
        return None
    group = names.target_group_arn(record.target_group) if record.target_group else None
    return Request(
        record.time,
        balancer_of_listener(listener),
        group,
        record.status or 0,
        None if record.response_ms is None else record.response_ms / 1000,
        record.from_haproxy,
    )


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


def balancer_of_listener(listener_arn: str) -> str:
    """``...:listener/app/<name>/<id>/<listener id>`` -> ``...:loadbalancer/app/<name>/<id>``."""
    prefix, _, path = listener_arn.partition(":listener/")
    return f"{prefix}:loadbalancer/{path.rsplit('/', 1)[0]}"


def balancers_of_groups(config: DataPlaneConfig) -> dict[str, set[str]]:
    """Target group ARN -> the load balancers whose listeners forward to it."""
    found: dict[str, set[str]] = {}
    for listener in config.listeners:
        for action in (listener.default_action, *(rule.action for rule in listener.rules)):
            for group, _ in action.forwards:
                found.setdefault(group, set()).add(balancer_of_listener(listener.arn))
    return found
