"""ECS tasks as local processes: each runnable task of a service in the sandbox is a process group
on loopback, with a free port per container port, the container's environment and its secrets.

A container is runnable locally when its image is one of the kit's sample images (the sandbox
records their role when the assets are registered, :mod:`dualalb_kit.sandbox.assets`) or its
container definition carries the ``dualalb-kit.local`` Docker label (a JSON object
``{"command": [...], "cwd": "..."}``; ``$PORT`` in the command is the container port's local
port). Task life follows ECS: ``PROVISIONING`` until its port answers, ``RUNNING``, then
``STOPPED`` with a reason, a stop code and the exit code. A task asked to stop with a warning
(:func:`warn_stop`, a Spot interruption) keeps running with ``desiredStatus`` ``STOPPED`` until
it exits after its SIGTERM, or is killed once its grace period ends. Each task runs on one
capacity provider of its service's strategy, placed as ECS does (:func:`place`).

Where the machine allows it (:func:`machine_limits`: root, or a writable cgroup, with the ``cpu``
and ``memory`` controllers of cgroup v1 or v2), each task's processes run in a cgroup of their own
under a ``dualalb-kit`` cgroup inside the sandbox's own, limited to the task definition's CPU
(``cpu`` units / 1024 cores: a CFS quota per 100 ms period) and memory (MiB, no swap). The task's
first process joins it before it runs the command, so nothing of the task runs unlimited; the
cgroup is removed when the task stops. A task the kernel's OOM killer stopped at its memory limit
is ``STOPPED`` with ECS's reason :data:`OOM_REASON` and exit code 137. Elsewhere tasks run without
limits (:attr:`Limits.reason` says why).
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...placement import split_tasks
from ...samples import SAMPLE_APP_DIR
from .state import pages

LOCAL_LABEL = "dualalb-kit.local"
"""Docker label of a container definition that says how to run it locally."""
SAMPLE_ANNOTATION = "dualalb-kit.sample-role"
"""Annotation of a sample image's manifest in the sandbox's ECR: the role it answers as."""
STOP_TIMEOUT_S = 30.0
"""ECS's default stopTimeout: SIGTERM, then SIGKILL after this many seconds."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PARENT = "dualalb-kit"
"""The cgroup, inside the sandbox's own (per controller on v1), that holds one cgroup per task."""
CPU_PERIOD_US = 100_000
"""The CFS period of a task's CPU quota: ``cpu`` units / 1024 of it per period (256: 25 ms)."""
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
"""ECS's reason for a container the kernel killed at its memory limit."""
OOM_EXIT_CODE = 137
"""The exit code ECS reports for it (128 + SIGKILL)."""
EXITED = "EssentialContainerExited"
SCHEDULER = "ServiceSchedulerInitiated"
"""ECS's stop codes of a task whose container exited, and of one its service stopped."""


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
    capacity_provider_strategy: tuple[tuple[str, int, int], ...] = ()
    """(capacity provider, base, weight) per item; empty for a service with a launch type."""


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
    cgroup: TaskCgroup | None = None
    """The cgroup limiting its CPU and memory (None where limits do not apply); removed once stopped."""
    capacity_provider: str | None = None
    """The capacity provider it runs on (None for a service with a launch type)."""
    arn: str = ""
    """Its task ARN in the sandbox's ECS (empty until recorded there)."""
    desired_status: str = "RUNNING"
    stop_code: str = ""
    stopping_at: float | None = None
    stopped_at: float | None = None
    kill_at: float | None = None
    """``time.monotonic()`` after which a task asked to stop with :func:`warn_stop` is killed."""
    signalled: bool = False
    """Whether its process group got the SIGTERM :func:`warn_stop` asked for."""


@dataclass(frozen=True)
class Limits:
    """Whether tasks get their task definition's CPU and memory as cgroup limits on this machine.

    ``version`` is ``"v1"`` (separate ``cpu`` and ``memory`` hierarchies) or ``"v2"`` (the unified
    hierarchy), or None where limits do not apply, and then ``reason`` says why. ``parents`` are
    the ``dualalb-kit`` cgroups the tasks' cgroups are made in: on v1 the cpu one, then the memory
    one; on v2 one.
    """

    version: str | None
    reason: str = ""
    parents: tuple[Path, ...] = ()

    @property
    def applied(self) -> bool:
        return self.version is not None

    def __str__(self) -> str:
        if self.applied:
            return f"each task limited to its task definition's CPU and memory (cgroup {self.version})"
        return f"none ({self.reason})"


def detect_limits(root: Path = CGROUP_ROOT, membership: str | None = None) -> Limits:
    """Which cgroups this machine offers for task limits, without changing anything.

    ``membership`` is this process's ``/proc/self/cgroup`` (read when not given); the tasks' parent
    cgroup goes inside this process's own cgroup of each controller, so tasks stay within whatever
    limits the sandbox itself runs under. cgroup v1 is used when its ``cpu`` and ``memory``
    controllers are mounted under ``root`` (also on a hybrid machine), else v2 when ``root`` is the
    unified hierarchy with both controllers available.
    """
    if not sys.platform.startswith("linux"):
        return Limits(None, f"{sys.platform} has no cgroups")
    try:
        lines = (membership if membership is not None else Path("/proc/self/cgroup").read_text()).splitlines()
    except OSError as error:
        return Limits(None, f"cannot read this process's cgroups ({error})")
    own: dict[str, str] = {}
    unified = None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            unified = path
        for controller in controllers.split(","):
            own[controller] = path
    v1 = [_v1_cgroup(root, name, own.get(name), control) for name, control in _V1_CONTROLS]
    if all(v1):
        return _writable(Limits("v1", parents=tuple(path / CGROUP_PARENT for path in v1 if path)))
    if unified is not None and (root / "cgroup.controllers").is_file():
        mine = root / unified.lstrip("/")
        try:
            available = (mine / "cgroup.controllers").read_text().split()
        except OSError:
            available = []
        missing = [name for name in ("cpu", "memory") if name not in available]
        if missing:
            return Limits(None, f"cgroup v2 without the {' and '.join(missing)} controller in {mine}")
        return _writable(Limits("v2", parents=(mine / CGROUP_PARENT,)))
    return Limits(None, f"no cpu and memory cgroup controllers (v1 or v2) under {root}")


_V1_CONTROLS = (("cpu", "cpu.cfs_quota_us"), ("memory", "memory.limit_in_bytes"))


def _v1_cgroup(root: Path, controller: str, path: str | None, control: str) -> Path | None:
    """This process's v1 cgroup of ``controller`` (its mount's root if that path is not visible)."""
    mount = root / controller
    if path is None or not (mount / control).is_file():
        return None
    mine = mount / path.lstrip("/")
    return mine if mine.is_dir() else mount


def _writable(limits: Limits) -> Limits:
    for parent in limits.parents:
        where = parent if parent.exists() else parent.parent
        if not os.access(where, os.W_OK):
            return Limits(None, f"not allowed to create cgroups in {where} (run the sandbox as root)")
    return limits


def machine_limits(root: Path = CGROUP_ROOT) -> Limits:
    """:func:`detect_limits`, with the ``dualalb-kit`` parent cgroups created (on v2 with the cpu
    and memory controllers enabled for their children); a failure is a Limits that does not apply,
    with the reason. The parents stay when the sandbox stops (other sandboxes may use them)."""
    limits = detect_limits(root)
    try:
        for parent in limits.parents:
            parent.mkdir(exist_ok=True)
        if limits.version == "v2":
            for cgroup in (limits.parents[0].parent, limits.parents[0]):
                enabled = (cgroup / "cgroup.subtree_control").read_text().split()
                if not {"cpu", "memory"} <= set(enabled):
                    (cgroup / "cgroup.subtree_control").write_text("+cpu +memory")
    except OSError as error:
        where = getattr(error, "filename", None) or limits.parents[0]
        hint = (
            " (cgroup v2 gives controllers only to children of a cgroup without processes: "
            "start the sandbox in a cgroup of its own)"
            if limits.version == "v2"
            else ""
        )
        return Limits(None, f"cannot prepare {where}: {error.strerror or error}{hint}")
    return limits


@dataclass(frozen=True)
class TaskCgroup:
    """One task's cgroup: ``paths`` are its directories (v1: cpu, memory; v2: one)."""

    version: str
    paths: tuple[Path, ...]

    @classmethod
    def create(cls, limits: Limits, name: str, cpu_units: int, memory_mib: int) -> TaskCgroup:
        """A cgroup named ``name`` in ``limits``' parents, limited to ``cpu_units`` and ``memory_mib``."""
        assert limits.version is not None, "limits do not apply on this machine"
        quota = max(1000, round(cpu_units / 1024 * CPU_PERIOD_US))
        memory = str(memory_mib * 2**20)
        made = cls(limits.version, tuple(parent / name for parent in limits.parents))
        try:
            for path in made.paths:
                path.mkdir()
            if made.version == "v1":
                cpu, memory_path = made.paths
                _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
                _write(cpu / "cpu.cfs_quota_us", str(quota))
                _write(memory_path / "memory.limit_in_bytes", memory)
                _write(memory_path / "memory.memsw.limit_in_bytes", memory, optional=True)  # no swap
            else:
                (path,) = made.paths
                _write(path / "cpu.max", f"{quota} {CPU_PERIOD_US}")
                _write(path / "memory.max", memory)
                _write(path / "memory.swap.max", "0", optional=True)
        except OSError:
            made.remove()
            raise
        return made

    def join_command(self, command: list[str]) -> list[str]:
        """``command`` run by a shell that first moves itself into this cgroup, then execs it: the
        task's process (same pid) never runs outside its limits, and no Python runs between fork
        and exec (``preexec_fn`` is unsafe in a threaded process)."""
        joins = " && ".join(f"echo $$ > {shlex.quote(str(path / 'cgroup.procs'))}" for path in self.paths)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', command[0], *command]

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer killed a process of this cgroup at its memory limit."""
        events = self.paths[-1] / ("memory.oom_control" if self.version == "v1" else "memory.events")
        try:
            counters = dict(
                line.split() for line in events.read_text().splitlines() if len(line.split()) == 2
            )
            if "oom_kill" in counters:
                return int(counters["oom_kill"]) > 0
            return self.version == "v1" and int((self.paths[-1] / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def remove(self, timeout: float = 2.0) -> bool:
        """Kill what still runs in the cgroup and remove it; False if it could not be removed in time."""
        deadline = time.monotonic() + timeout
        for path in self.paths:
            while path.exists():
                try:
                    for pid in (path / "cgroup.procs").read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                    path.rmdir()
                except FileNotFoundError:
                    break
                except (OSError, ValueError):
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.02)
        return True


def _write(path: Path, value: str, *, optional: bool = False) -> None:
    if optional and not path.exists():
        return
    try:
        path.write_text(value)
    except OSError:
        if not optional:
            raise


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
    for cluster in pages(ecs, "list_clusters", "clusterArns"):
        arns = list(pages(ecs, "list_services", "serviceArns", cluster=cluster))
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
                        capacity_provider_strategy=tuple(
                            (item["capacityProvider"], int(item.get("base", 0)), int(item.get("weight", 0)))
                            for item in service.get("capacityProviderStrategy") or ()
                        ),
                    )
                )
    return services


def place(service: ServiceState, running: list[str | None]) -> str | None:
    """The capacity provider for one more task of ``service``, whose other tasks run on ``running``.

    ECS places a service's tasks base first, then by weight (:func:`dualalb_kit.cost.split_tasks`):
    the new task goes to the provider furthest below its share of ``len(running) + 1`` tasks (the
    first such provider of the strategy). None for a service with a launch type.
    """
    strategy = [
        {"provider": name, "base": base, "weight": weight}
        for name, base, weight in service.capacity_provider_strategy
    ]
    if not strategy:
        return None
    share = split_tasks(len(running) + 1, strategy)
    return max(share, key=lambda name: share[name] - running.count(name))


def start_task(
    service: ServiceState,
    log_dir: Path,
    environment: Mapping[str, str],
    *,
    limits: Limits | None = None,
    capacity_provider: str | None = None,
    task_id: str | None = None,
) -> LocalTask:
    """Start one task of ``service`` (its first container) as a new process group.

    ``environment`` is the container's, as the process gets it (private Route 53 names already
    pointed at the local listeners). ``PORT`` (and ``$PORT`` in the command) is the local port of
    the first container port; ``HOST`` is 127.0.0.1. With ``limits`` that apply, the task runs in
    a cgroup of its own limited to the task definition's CPU and memory. ``capacity_provider``
    is where it runs (:func:`place`); ``task_id`` its ECS task ID (default a new one).
    """
    container = service.containers[0]
    ports = {container_port: free_port() for container_port in container.ports}
    first_port = next(iter(ports.values()), free_port())
    task_id = task_id or uuid.uuid4().hex
    log_path = log_dir / f"{service.name}-{task_id[:8]}.log"
    process_environment = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")},
        **environment,
        "HOST": "127.0.0.1",
        "PORT": str(first_port),
    }
    command = [part.replace("$PORT", str(first_port)) for part in container.command]
    cgroup = None
    if limits is not None and limits.applied:
        cgroup = TaskCgroup.create(limits, task_id, service.cpu_units, service.memory_mib)
        command = cgroup.join_command(command)
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
    return LocalTask(
        task_id,
        service,
        dict(environment),
        process,
        ports,
        log_path,
        cgroup=cgroup,
        capacity_provider=capacity_provider,
    )


def refresh(task: LocalTask) -> None:
    """Advance ``task``'s status: RUNNING once its first port answers, STOPPED when it exited.
    A task :func:`warn_stop` asked to stop gets SIGTERM, and SIGKILL once its grace period is over."""
    if task.status == "STOPPED":
        return
    if task.kill_at is not None and task.process.poll() is None:
        if not task.signalled:
            task.signalled = True
            _kill(task.process.pid, signal.SIGTERM)
        elif time.monotonic() >= task.kill_at:
            _kill(task.process.pid, signal.SIGKILL)
            task.process.wait()
    code = task.process.poll()
    if code is not None:
        task.status, task.exit_code = "STOPPED", code
        if code == -signal.SIGKILL and task.cgroup is not None and task.cgroup.oom_killed():
            task.stopped_reason, task.exit_code = OOM_REASON, OOM_EXIT_CODE
        task.stopped_reason = task.stopped_reason or f"Essential container in task exited (exit code {code})"
        _stopped(task, EXITED)
    elif task.status == "PROVISIONING" and all(_answers(port) for port in task.ports.values()):
        task.status = "RUNNING"


def warn_stop(task: LocalTask, reason: str, stop_code: str, grace_s: float) -> None:
    """Ask ``task`` to stop as ECS does with a warning: ``desiredStatus`` STOPPED with ``reason`` and
    ``stop_code`` now; :func:`refresh` sends its process group SIGTERM, and SIGKILL once ``grace_s``
    seconds from now have passed. The task stays RUNNING until its process is gone."""
    if task.status == "STOPPED" or task.desired_status == "STOPPED":
        return
    task.desired_status, task.stopped_reason, task.stop_code = "STOPPED", reason, stop_code
    task.stopping_at = time.time()
    task.kill_at = time.monotonic() + grace_s


def _kill(pid: int, signal_number: int) -> None:
    try:
        os.killpg(pid, signal_number)
    except ProcessLookupError:
        pass


def stop_task(task: LocalTask, reason: str, timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM the task's process group, SIGKILL after ``timeout`` seconds; record why and the exit code.

    A task whose process already ended keeps the reason it ended with (its exit, or running out
    of memory), as :func:`refresh` records it."""
    if task.status != "STOPPED" and task.process.poll() is not None:
        refresh(task)
    if task.status == "STOPPED":
        _release(task)
        return
    task.stopped_reason = task.stopped_reason or reason
    task.desired_status = "STOPPED"
    if task.process.poll() is None:
        try:
            os.killpg(task.process.pid, signal.SIGTERM)
            task.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(task.process.pid, signal.SIGKILL)
            task.process.wait()
        except ProcessLookupError:
            pass
    task.status, task.exit_code = "STOPPED", task.process.returncode
    _stopped(task, SCHEDULER)


def _stopped(task: LocalTask, stop_code: str) -> None:
    """Record when and why (``stop_code`` unless one was set) ``task`` stopped; release its cgroup."""
    task.desired_status = "STOPPED"
    task.stop_code = task.stop_code or stop_code
    task.stopped_at = task.stopped_at or time.time()
    _release(task)


def _release(task: LocalTask) -> None:
    """Remove the stopped task's cgroup (killing what is left of it); kept if it will not go."""
    if task.cgroup is not None and task.cgroup.remove():
        task.cgroup = None
