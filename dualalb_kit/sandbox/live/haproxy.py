"""HAProxy as the data plane of every ALB and NLB in the sandbox, on 127.0.0.1 only.

* :func:`render_config` turns a :class:`~dualalb_kit.sandbox.live.model.DataPlaneConfig` into
  HAProxy's configuration, from the jinja2 template ``dualalb_kit/data/haproxy.cfg.j2``.
* :class:`HAProxy` runs it (master-worker, a private temporary folder), reloads it without
  dropping a connection, reports health states through HAProxy's runtime API, and stops it.
* :class:`AccessLog` receives HAProxy's per-request log lines (syslog over TCP on 127.0.0.1) and
  turns them into :class:`Record` values.

Request logs leave HAProxy through a log ``ring`` whose ``server`` is ``127.0.0.1:<log_port>``
rather than a plain ``log 127.0.0.1:<log_port>`` (UDP): HAProxy sends UDP logs from a socket the
kernel binds to 0.0.0.0, which would be the one socket beyond loopback, and UDP drops records in
bursts that the sandbox's metrics would then miss. Every socket HAProxy opens is on 127.0.0.1,
and targets must be on loopback too.

**What is modelled from ELBv2** (and how):

* a listener is a ``frontend`` bound to ``127.0.0.1:<local_port>``; HTTPS and TLS listeners
  present ``certificate_pem``; HTTP/HTTPS listeners run in ``mode http``, TCP/TLS (NLB) listeners
  in ``mode tcp`` with a forward default action only;
* listener rules in ascending priority, the first that matches wins; a rule's conditions are
  ANDed, a condition's values ORed; ``host-header`` is matched case-insensitively against the Host
  header without its port, ``path-pattern`` case-sensitively against the path without the query
  string; ELB's wildcards ``*`` (any characters) and ``?`` (one character); then the default
  action;
* ``forward`` with weights: one ``rand(<sum of weights>)`` draw per request picks the target group
  by cumulative weight; a weight 0 gets nothing (a forward whose weights are all 0 answers 503);
* ``redirect``: ``http-request redirect location ... code 301|302``; ``#{protocol}``,
  ``#{host}`` (the Host header without its port), ``#{port}``, ``#{path}`` (without its leading
  ``/``, as ELB defines it), ``#{query}`` become HAProxy expressions; a literal port of another
  listener of the same load balancer becomes that listener's loopback port, ``#{port}`` the port
  the client connected to (so a redirect from HTTP:80 to HTTPS:443 lands on the sandbox's HTTPS
  listener);
* ``fixed-response``: ``http-request return status N content-type T string "..."``;
* a target group is a ``backend``, a target a ``server`` with ``check``: ``option httpchk`` +
  ``http-check send meth GET uri <path>``, ``http-check expect status <matcher>`` (ELB's
  ``200``, ``200,202``, ``200-299`` forms are HAProxy's), ``inter <interval>s``,
  ``timeout check <timeout>s``, ``rise <healthy_threshold>``, ``fall <unhealthy_threshold>``;
  a TCP health check is a connect check; HTTPS health checks and HTTPS/TLS targets use TLS
  without verification;
* fail-open: when no target of a group is healthy, ELBv2 routes to all of them; each target is
  also a ``backup`` server without checks (``option allbackups``), used only then;
* a target group without targets answers HAProxy's own 503 (server ``<NOSRV>``);
* health states survive reloads (``server-state-file``, dumped before each reload);
* deregistration delay: a target removed from the configuration stops getting new requests at
  the reload; its in-flight requests finish in the old worker, which leaves as soon as its last
  request ends, like ELB's draining. HAProxy bounds that per process, not per target group:
  ``hard-stop-after`` is the largest deregistration delay of the target groups (at least the 60 s
  idle timeout, so a reload never cuts a request the new configuration still serves).
  :meth:`HAProxy.drain` puts a target in HAProxy's ``drain`` state through the runtime API (no
  new requests, in-flight ones finish) for a caller that wants to time the delay per target group
  itself before the reload that removes it;
* ``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Port`` request headers; idle
  timeout 60 s (ALB) and 350 s (NLB).

**Not modelled**: new targets start in service (HAProxy 2.6 has no ELB "initial" state: a target
is UP until ``unhealthy_threshold`` checks fail); the deregistration delay is per process, not
per target group; slow start, stickiness, least-outstanding-requests, NLB flow hashing (round
robin everywhere), ``X-Amzn-Trace-Id``, authentication actions, conditions other than host header
and path (HTTP header, method, query string, source IP), UDP listeners, ALB error pages,
connection draining of an NLB's TCP flows beyond ``hard-stop-after``, and ELB's retries (HAProxy
retries a failed connect 3 times to the same target).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import psutil

from ...errors import DataPlaneError
from ...loopback import is_loopback_host
from .model import Action, DataPlaneConfig, Listener, TargetGroup

__all__ = [
    "AccessLog",
    "HAProxy",
    "Names",
    "Record",
    "check_installed",
    "names",
    "render_config",
]

MINIMUM_VERSION = (2, 6)
"""The oldest HAProxy the template is written for (``option idle-close-on-response``)."""

IDLE_TIMEOUT_S = 60
"""The ALB's default idle timeout; also the least ``hard-stop-after``."""

FAIL_OPEN_PREFIX = "failopen-"
"""Name prefix of the backup server that stands for a target when none is healthy."""

_HTTP_PROTOCOLS = {"HTTP": "http", "HTTPS": "https"}
_TCP_PROTOCOLS = {"TCP", "TLS"}
_TCP_TARGET_PROTOCOLS = {"TCP", "TLS", "UDP", "TCP_UDP"}
_NO_TARGET = "_no_target_"
"""Prefix of the empty backends a forward whose weights are all 0 uses (TG names have no ``_``)."""

# One log line per request, fields separated by one space; none of them can contain a space
# (names are sanitized, <NOSRV> and the termination state have none).
_LOG_FIELDS = "%Ts.%ms %f %b %s {status} {response} {total} %B %U %ts"
HTTP_LOG_FORMAT = _LOG_FIELDS.format(status="%ST", response="%Tr", total="%Ta")
TCP_LOG_FORMAT = _LOG_FIELDS.format(status="-", response="-1", total="%Tt")


def _find_binary() -> str | None:
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin:/sbin")


def check_installed(binary: str | None = None) -> str:
    """The path of the ``haproxy`` executable; raises :class:`DataPlaneError` (one line naming
    Debian's package) when it is missing or older than 2.6."""
    found = binary if binary and Path(binary).exists() else (None if binary else _find_binary())
    if found is None:
        raise DataPlaneError(
            "HAProxy is not installed (the sandbox's live data plane runs every ALB and NLB on it): "
            "install Debian's package haproxy: apt-get install haproxy"
        )
    seen = _version(found)
    match = re.search(r"version (\d+)\.(\d+)", seen)
    if match is None or tuple(map(int, match.groups())) < MINIMUM_VERSION:
        raise DataPlaneError(
            f"{found} is not HAProxy 2.6 or newer ({seen or 'no version'}): install Debian's package "
            "haproxy: apt-get install haproxy"
        )
    return found


@functools.lru_cache(maxsize=8)
def _version(binary: str) -> str:
    answer = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=30, check=False)
    return (answer.stdout.strip().splitlines() or [""])[0]


# --- names -------------------------------------------------------------------------------


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-") or "x"


def _unique(keys_and_bases: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Key -> base name; a base shared by several keys gets a short hash of each key appended."""
    pairs = list(keys_and_bases)
    counts: dict[str, int] = {}
    for _, base in pairs:
        counts[base] = counts.get(base, 0) + 1
    return {
        key: base if counts[base] == 1 else f"{base}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        for key, base in pairs
    }


@dataclass(frozen=True)
class Names:
    """HAProxy's names for what a configuration holds, both ways: a frontend per listener
    (``<load balancer>:<port>``), a backend per target group (its sanitized name, with a short hash
    of its ARN only when two would collide), a server per target (``host:port``). Backend names do
    not change as other target groups come and go, so records from before a reload still map."""

    frontends: dict[str, str]
    """Listener ARN -> frontend name."""
    backends: dict[str, str]
    """Target group ARN -> backend name."""

    def listener_arn(self, frontend: str) -> str | None:
        return next((arn for arn, name in self.frontends.items() if name == frontend), None)

    def target_group_arn(self, backend: str) -> str | None:
        return next((arn for arn, name in self.backends.items() if name == backend), None)


def names(config: DataPlaneConfig) -> Names:
    """The frontend and backend names :func:`render_config` gives ``config``'s listeners and
    target groups."""
    frontends = _unique(
        (listener.arn, f"{_sanitize(listener.load_balancer)}:{listener.port}")
        for listener in config.listeners
    )
    backends = _unique((group.arn, _sanitize(group.name)) for group in config.target_groups)
    return Names(frontends, backends)


def _server_name(host: str, port: int) -> str:
    return f"{host}:{port}"


# --- values made safe for the configuration ------------------------------------------------

_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !%&()*+,-./:;<=>?@[]^_`{|}~")


def quoted(text: str) -> str:
    """``text`` as one double-quoted HAProxy word: anything but plain printable ASCII (quotes,
    backslash, ``$``, ``#``, control and non-ASCII characters) as ``\\xNN`` bytes."""
    out = []
    for char in text:
        if char in _PLAIN:
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return '"' + "".join(out) + '"'


def wildcard_regex(pattern: str) -> str:
    """ELB's wildcard pattern (``*`` any characters, ``?`` one) as a PCRE body without anchors,
    safe inside HAProxy's single quotes (a literal ``'`` becomes ``\\x27``)."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "'":
            parts.append("\\x27")
        elif char.isascii() and char.isalnum():
            parts.append(char)
        elif char.isascii() and char.isprintable():
            parts.append("\\" + char)
        else:
            parts.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(parts)


def host_regex(values: Iterable[str]) -> str:
    """Host header values (ELB wildcards, any case) against a Host header that may carry a port."""
    return "^(?:" + "|".join(wildcard_regex(value) for value in values) + ")(?::[0-9]+)?$"


def path_regex(values: Iterable[str]) -> str:
    return "^(?:" + "|".join(wildcard_regex(value) for value in values) + ")$"


_MATCHER = re.compile(r"^\d{3}(?:-\d{3})?(?:,\d{3}(?:-\d{3})?)*$")


# --- the view the template renders -----------------------------------------------------------


@dataclass(frozen=True)
class _Acl:
    name: str
    fetch: str
    regex: str


@dataclass(frozen=True)
class _ActionView:
    type: str
    backends: tuple[tuple[str, int | None], ...] = ()
    """(backend, draw upper bound or None for the remainder) in order."""
    draw: int = 0
    """The ``rand`` range when several target groups share the traffic, else 0."""
    locations: tuple[tuple[str, str], ...] = ()
    code: int = 302
    status: int = 200
    content_type: str = ""
    body: str | None = None


@dataclass(frozen=True)
class _RuleView:
    id: str
    comment: str
    acls: tuple[_Acl, ...]
    conditions: tuple[str, ...]
    action: _ActionView


@dataclass(frozen=True)
class _FrontendView:
    name: str
    comment: str
    mode: str
    local_port: int
    tls: bool
    scheme: str
    port: int
    rules: tuple[_RuleView, ...]


@dataclass(frozen=True)
class _CheckView:
    http: bool
    path: str
    host: str
    codes: str
    interval_s: int
    timeout_s: int
    rise: int
    fall: int
    tls: str


@dataclass(frozen=True)
class _ServerView:
    name: str
    address: str
    tls: str


@dataclass(frozen=True)
class _BackendView:
    name: str
    comment: str
    mode: str
    check: _CheckView | None
    servers: tuple[_ServerView, ...]


def _backend_mode(group: TargetGroup) -> str:
    return "tcp" if group.protocol.upper() in _TCP_TARGET_PROTOCOLS else "http"


def _backend_view(group: TargetGroup, name: str) -> _BackendView:
    check = group.health_check
    where = f"target group {group.name} ({group.arn})"
    codes = check.matcher.replace(" ", "")
    http_check = check.protocol.upper() in ("HTTP", "HTTPS")
    if http_check and not _MATCHER.match(codes):
        raise DataPlaneError(
            f"{where}: health check matcher {check.matcher!r} is not 200, 200,202 or 200-299"
        )
    for label, value in (
        ("interval", check.interval_s),
        ("timeout", check.timeout_s),
        ("healthy threshold", check.healthy_threshold),
        ("unhealthy threshold", check.unhealthy_threshold),
    ):
        if value < 1:
            raise DataPlaneError(f"{where}: health check {label} {value} is not a positive number")
    target_tls = group.protocol.upper() in ("HTTPS", "TLS")
    check_tls = ""  # checks speak TLS when the target does, unless told otherwise
    if check.protocol.upper() == "HTTPS" and not target_tls:
        check_tls = " check-ssl verify none"
    elif check.protocol.upper() != "HTTPS" and target_tls:
        check_tls = " no-check-ssl"
    servers: dict[str, _ServerView] = {}
    for target in group.targets:
        if not is_loopback_host(target.host):
            raise DataPlaneError(f"{where}: target {target.host}:{target.port} is not on loopback")
        server = _server_name(target.host, target.port)
        servers[server] = _ServerView(
            server, f"{target.host}:{target.port}", " ssl verify none" if target_tls else ""
        )
    return _BackendView(
        name=name,
        comment=f"{where}, {group.protocol}, deregistration delay {group.deregistration_delay_s} s",
        mode=_backend_mode(group),
        check=_CheckView(
            http=http_check,
            path=quoted(check.path or "/"),
            host=group.targets[0].host if group.targets else "localhost",
            codes=codes,
            interval_s=check.interval_s,
            timeout_s=check.timeout_s,
            rise=check.healthy_threshold,
            fall=check.unhealthy_threshold,
            tls=check_tls,
        ),
        servers=tuple(servers.values()),
    )


def _lf_literal(text: str) -> str:
    return text.replace("%", "%%")


_PLACEHOLDER = re.compile(r"#\{(protocol|host|port|path|query)\}")


def _lf_expand(template: str, expressions: dict[str, str]) -> str:
    """An ELB redirect component as a log-format string: placeholders become expressions."""
    out, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        out.append(_lf_literal(template[last : match.start()]))
        out.append(expressions[match.group(1)])
        last = match.end()
    out.append(_lf_literal(template[last:]))
    return "".join(out)


def _redirect_view(listener: Listener, redirect: dict[str, str], config: DataPlaneConfig) -> _ActionView:
    scheme = _HTTP_PROTOCOLS[listener.protocol.upper()]
    protocol = redirect.get("Protocol", "#{protocol}")
    scheme_to = scheme if protocol == "#{protocol}" else protocol.lower()
    if scheme_to not in ("http", "https"):
        raise DataPlaneError(f"listener {listener.arn}: redirect protocol {protocol!r} is not HTTP or HTTPS")
    port = redirect.get("Port", "#{port}")
    if port == "#{port}":
        port_to = str(listener.local_port)
    else:
        same_lb = {
            other.port: other.local_port
            for other in config.listeners
            if other.load_balancer == listener.load_balancer
        }
        port_to = str(same_lb.get(int(port), port)) if port.isdigit() else port
    expressions = {
        "protocol": scheme,
        "host": "%[req.hdr(host),field(1,:)]",
        "port": str(listener.local_port),
        "path": "%[path,bytes(1)]",
        "query": "%[query]",
    }
    host = _lf_expand(redirect.get("Host", "#{host}"), expressions)
    default_port = {"http": "80", "https": "443"}[scheme_to]
    port_part = "" if port_to == default_port else ":" + _lf_expand(port_to, expressions)
    path = _lf_expand(redirect.get("Path", "/#{path}"), expressions)
    base = f"{scheme_to}://{host}{port_part}{path}"
    query = redirect.get("Query", "#{query}")
    if query == "":
        locations = ((quoted(base), ""),)
    elif query == "#{query}":
        locations = ((quoted(base + "?%[query]"), "{ query -m len gt 0 }"), (quoted(base), ""))
    else:
        locations = ((quoted(base + "?" + _lf_expand(query, expressions)), ""),)
    status = redirect.get("StatusCode", "HTTP_302")
    code = {"HTTP_301": 301, "HTTP_302": 302}.get(status)
    if code is None:
        raise DataPlaneError(f"listener {listener.arn}: redirect status {status!r} is not HTTP_301/HTTP_302")
    return _ActionView("redirect", locations=locations, code=code)


def _action_view(
    listener: Listener, action: Action, config: DataPlaneConfig, known: Names, mode: str, empties: set[str]
) -> _ActionView:
    where = f"listener {listener.arn}"
    if action.type == "forward":
        if not action.forwards:
            raise DataPlaneError(f"{where}: a forward action names no target group")
        groups = {group.arn: group for group in config.target_groups}
        for arn, _ in action.forwards:
            if arn not in groups:
                raise DataPlaneError(f"{where}: forwards to {arn}, which is not among the target groups")
            if _backend_mode(groups[arn]) != mode:
                raise DataPlaneError(
                    f"{where} ({listener.protocol}) cannot forward to target group {groups[arn].name} "
                    f"({groups[arn].protocol})"
                )
        if len(action.forwards) == 1:
            return _ActionView("forward", backends=((known.backends[action.forwards[0][0]], None),))
        weighted = [(known.backends[arn], weight) for arn, weight in action.forwards if weight > 0]
        if not weighted:
            empty = f"{_NO_TARGET}{mode}"
            empties.add(empty)
            return _ActionView("forward", backends=((empty, None),))
        if len(weighted) == 1:
            return _ActionView("forward", backends=((weighted[0][0], None),))
        total, bounds = 0, []
        for backend, weight in weighted:
            total += weight
            bounds.append((backend, total))
        backends = tuple((backend, below) for backend, below in bounds[:-1]) + ((bounds[-1][0], None),)
        return _ActionView("forward", backends=backends, draw=total)
    if mode != "http":
        raise DataPlaneError(f"{where} ({listener.protocol}) can only forward, not {action.type}")
    if action.type == "redirect":
        return _redirect_view(listener, action.redirect, config)
    if action.type == "fixed-response":
        response = action.fixed_response
        status = int(response.get("StatusCode", "200"))
        if not 200 <= status <= 599:
            raise DataPlaneError(f"{where}: fixed-response status {status} is not 200-599")
        body = response.get("MessageBody")
        return _ActionView(
            "fixed-response",
            status=status,
            content_type=quoted(response.get("ContentType") or "text/plain"),
            body=None if body is None else quoted(body),
        )
    raise DataPlaneError(f"{where}: action type {action.type!r} is not forward, redirect or fixed-response")


def _frontend_view(
    listener: Listener, config: DataPlaneConfig, known: Names, empties: set[str]
) -> _FrontendView:
    protocol = listener.protocol.upper()
    where = f"listener {listener.arn}"
    if protocol in _HTTP_PROTOCOLS:
        mode = "http"
    elif protocol in _TCP_PROTOCOLS:
        mode = "tcp"
        if listener.rules:
            raise DataPlaneError(f"{where} ({protocol}) has rules; an NLB listener has a default action only")
    else:
        raise DataPlaneError(f"{where}: protocol {protocol} is not served (HTTP, HTTPS, TCP or TLS)")
    tls = protocol in ("HTTPS", "TLS")
    if tls and not config.certificate_pem:
        raise DataPlaneError(
            f"{where} ({protocol}) needs a certificate: DataPlaneConfig.certificate_pem is not set"
        )
    rules = []
    seen: set[int] = set()
    for rule in sorted(listener.rules, key=lambda rule: rule.priority):
        if rule.priority in seen:
            raise DataPlaneError(f"{where}: two rules have priority {rule.priority}")
        seen.add(rule.priority)
        rule_id = f"p{rule.priority}"
        acls, conditions, described = [], [], []
        for index, condition in enumerate(rule.conditions):
            if not condition.values:
                raise DataPlaneError(
                    f"{where}: rule {rule.priority} has a {condition.field} condition without values"
                )
            name = f"{rule_id}_c{index}"
            if condition.field == "host-header":
                fetch, regex = "hdr_reg(host) -i", host_regex(condition.values)
            elif condition.field == "path-pattern":
                fetch, regex = "path_reg", path_regex(condition.values)
            else:
                raise DataPlaneError(
                    f"{where}: rule {rule.priority}: condition {condition.field!r} is not served"
                )
            acls.append(_Acl(name, fetch, regex))
            conditions.append(name)
            described.append(f"{condition.field} in ({', '.join(condition.values)})")
        rules.append(
            _RuleView(
                rule_id,
                f"priority {rule.priority}: {' and '.join(described) or 'always'} -> {rule.action.type}",
                tuple(acls),
                tuple(conditions),
                _action_view(listener, rule.action, config, known, mode, empties),
            )
        )
    rules.append(
        _RuleView(
            "default",
            f"default action -> {listener.default_action.type}",
            (),
            (),
            _action_view(listener, listener.default_action, config, known, mode, empties),
        )
    )
    return _FrontendView(
        name=known.frontends[listener.arn],
        comment=f"{listener.load_balancer} {protocol}:{listener.port} ({listener.arn})",
        mode=mode,
        local_port=listener.local_port,
        tls=tls,
        scheme=_HTTP_PROTOCOLS.get(protocol, protocol.lower()),
        port=listener.port,
        rules=tuple(rules),
    )


@functools.cache
def _template():
    import jinja2

    text = resources.files("dualalb_kit").joinpath("data/haproxy.cfg.j2").read_text()
    environment = jinja2.Environment(
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    return environment.from_string(text)


def render_config(
    config: DataPlaneConfig, *, admin_socket: Path, server_state_file: Path | None = None
) -> str:
    """HAProxy's configuration for ``config``: a frontend per listener on 127.0.0.1, a backend per
    target group, the runtime API on the unix socket ``admin_socket``, request logs to
    ``127.0.0.1:<log_port>`` (syslog over TCP, :class:`AccessLog`; none when it is 0). ``server_state_file``
    (default: ``server-state`` next to the socket) is where health states are kept across reloads.
    Raises :class:`DataPlaneError` for what HAProxy cannot serve (a UDP listener, an HTTPS
    listener without ``certificate_pem``, a forward to an unknown target group, a target beyond
    loopback, ...). The ELBv2 semantics are described in this module's docstring.
    """
    known = names(config)
    empties: set[str] = set()
    frontends = [_frontend_view(listener, config, known, empties) for listener in config.listeners]
    backends = [_backend_view(group, known.backends[group.arn]) for group in config.target_groups]
    backends += [
        _BackendView(name, "no target group has weight", name.rsplit("_", 1)[1], None, ())
        for name in sorted(empties)
    ]
    hard_stop_after_s = max(
        [IDLE_TIMEOUT_S, *(group.deregistration_delay_s for group in config.target_groups)]
    )
    return _template().render(
        admin_socket=admin_socket,
        server_state_file=server_state_file or Path(admin_socket).with_name("server-state"),
        hard_stop_after_s=hard_stop_after_s,
        log_port=config.log_port,
        certificate_pem=config.certificate_pem,
        http_log_format=quoted(HTTP_LOG_FORMAT),
        tcp_log_format=quoted(TCP_LOG_FORMAT),
        frontends=frontends,
        backends=backends,
        fail_open_prefix=FAIL_OPEN_PREFIX,
    )


# --- the process ---------------------------------------------------------------------------


def _ask(path: Path, command: str, timeout_s: float = 5.0) -> str:
    """One command on an HAProxy CLI socket (the runtime API or the master CLI); the answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout_s)
        client.connect(str(path))
        client.sendall(command.encode() + b"\n")
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


@dataclass(frozen=True)
class _Processes:
    failed_reloads: int
    workers: tuple[int, ...]
    old_workers: tuple[int, ...]


def _parse_show_proc(text: str) -> _Processes:
    failed, workers, old, section = 0, [], [], None
    for line in text.splitlines():
        if line.startswith("# workers"):
            section = workers
        elif line.startswith("# old workers"):
            section = old
        elif line.startswith("#"):
            section = None
        elif fields := line.split():
            if len(fields) > 1 and fields[1] == "master":
                found = re.search(r"failed: (\d+)", line)
                failed = int(found.group(1)) if found else 0
            elif section is not None and fields[0].isdigit():
                section.append(int(fields[0]))
    return _Processes(failed, tuple(workers), tuple(old))


def _stop_family(process: subprocess.Popen, timeout_s: float) -> None:
    """SIGTERM to the master (it stops its workers at once), then SIGKILL whatever is left."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
    _, alive = psutil.wait_procs(family, timeout=timeout_s if process.poll() is None else 2)
    for member in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(alive, timeout=timeout_s)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)


def _abandon(process: subprocess.Popen, folder: Path) -> None:
    """What an :class:`HAProxy` nobody stopped leaves behind, cleared when it is collected or at exit."""
    _stop_family(process, 5.0)
    shutil.rmtree(folder, ignore_errors=True)


_SERVER_STATES = (
    ("UP", "UP"),
    ("no check", "UP"),
    ("DOWN", "DOWN"),
    ("MAINT", "MAINT"),
    ("DRAIN", "DRAIN"),
    ("NOLB", "DRAIN"),
)


class HAProxy:
    """One HAProxy (master-worker) serving a :class:`DataPlaneConfig` on 127.0.0.1.

    It lives in a private temporary folder (configuration, runtime API socket ``admin.sock``,
    master CLI ``master.sock``, server states, HAProxy's own output ``haproxy.log``) that
    :meth:`stop` removes. Use it as a context manager, or call :meth:`stop`; a crash is reported by
    :meth:`failure`, never restarted.

    >>> with HAProxy() as proxy:  # doctest: +SKIP
    ...     proxy.start(config)
    ...     proxy.reload(new_config)
    ...     proxy.server_states()
    """

    def __init__(self, *, binary: str | None = None, timeout_s: float = 15.0) -> None:
        self._binary = binary
        self.timeout_s = timeout_s
        """How long start, reload and stop wait for HAProxy."""
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None
        self._config: DataPlaneConfig | None = None
        self._names = Names({}, {})
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize | None = None
        self._log_mark = 0

    check_installed = staticmethod(check_installed)

    # paths and state

    @property
    def folder(self) -> Path:
        if self._folder is None:
            raise DataPlaneError("HAProxy is not started")
        return self._folder

    @property
    def admin_socket(self) -> Path:
        return self.folder / "admin.sock"

    @property
    def master_socket(self) -> Path:
        return self.folder / "master.sock"

    @property
    def config_path(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def pid(self) -> int | None:
        """The master's process id, while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def config(self) -> DataPlaneConfig | None:
        """What HAProxy serves now."""
        return self._config

    @property
    def names(self) -> Names:
        """Frontend and backend names of what HAProxy serves now (to map records back to ARNs)."""
        return self._names

    def __enter__(self) -> HAProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # lifecycle

    def start(self, config: DataPlaneConfig) -> None:
        """Write ``config``'s configuration, start HAProxy and return once it serves it.
        Raises :class:`DataPlaneError` when HAProxy is missing, rejects the configuration or
        exits while starting (with its own reason), and after a crash until :meth:`stop`."""
        with self._lock:
            if self._process is not None:
                if (reason := self.failure()) is not None:
                    raise DataPlaneError(f"{reason} (stop() it before starting it again)")
                raise DataPlaneError("HAProxy is already started; reload() changes what it serves")
            binary = check_installed(self._binary)
            self._folder = Path(tempfile.mkdtemp(prefix="dualalb-haproxy-"))
            try:
                text = render_config(config, admin_socket=self.admin_socket)
                self._validate(binary, text)
                self.config_path.write_text(text)
                (self.folder / "server-state").write_text("1\n")  # an empty state file, version 1
                log = (self.folder / "haproxy.log").open("ab")
                try:
                    self._process = subprocess.Popen(
                        [
                            binary,
                            "-W",
                            "-db",
                            "-f",
                            str(self.config_path),
                            "-S",
                            f"{self.master_socket},mode,600",
                        ],
                        cwd=self.folder,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                finally:
                    log.close()
                self._finalizer = weakref.finalize(self, _abandon, self._process, self.folder)
                self._wait_until(lambda processes: bool(processes.workers), "start")
            except BaseException:
                self._stop_locked()
                raise
            self._log_mark = self._log_size()
            self._config = config
            self._names = names(config)

    def reload(self, config: DataPlaneConfig) -> None:
        """Serve ``config`` instead, without refusing or dropping a connection: the configuration
        is checked first (HAProxy's ``-c``), health states are kept (``show servers state``), the
        master starts a new worker that takes over the listening sockets, and the old one finishes
        its in-flight requests. Raises :class:`DataPlaneError` when HAProxy refuses it; what was
        served before stays served."""
        with self._lock:
            self._require_running()
            binary = check_installed(self._binary)
            text = render_config(config, admin_socket=self.admin_socket)
            self._validate(binary, text)
            before = _parse_show_proc(self._master("show proc"))
            previous = self.config_path.read_text()
            self._log_mark = self._log_size()
            (self.folder / "server-state").write_text(self.runtime("show servers state"))
            self._write(self.config_path, text)
            with contextlib.suppress(OSError):  # the master re-executes itself and drops the line
                self._master("reload")
            try:
                self._wait_until(
                    lambda processes: any(pid not in before.workers for pid in processes.workers),
                    "reload",
                    failed_reloads=before.failed_reloads,
                )
            except DataPlaneError:
                self._write(self.config_path, previous)
                raise
            self._log_mark = self._log_size()
            self._config = config
            self._names = names(config)

    def stop(self) -> None:
        """Stop the master and every worker (old ones too) and remove the private folder."""
        with self._lock:
            self._stop_locked()

    def failure(self) -> str | None:
        """Why HAProxy is not running although it was started and not stopped (its exit code and
        last alert), or None while it runs (or was never started)."""
        process = self._process
        if process is None or process.poll() is None:
            return None
        return f"HAProxy exited with code {process.returncode}: {self._last_words()}"

    poll = failure
    """Another name for :meth:`failure` (as a process is polled)."""

    # the runtime API

    def runtime(self, command: str) -> str:
        """One command on the worker's runtime API (``show stat``, ``show servers state``, ...)."""
        return _ask(self.admin_socket, command, self.timeout_s)

    def server_states(self) -> dict[tuple[str, str], str]:
        """(target group ARN, ``host:port``) -> ``UP``, ``DOWN``, ``MAINT`` or ``DRAIN``, from the
        runtime API's ``show stat``. A target whose state is changing counts as what it still is
        (``UP 1/2``, failing its first check, is UP: it still gets requests)."""
        self._require_running()
        answer = self.runtime("show stat -1 4 -1")
        rows = csv.DictReader(io.StringIO(answer.lstrip("# ")))
        states = {}
        for row in rows:
            arn = self._names.target_group_arn(row.get("pxname") or "")
            server = row.get("svname") or ""
            if arn is None or server.startswith(FAIL_OPEN_PREFIX):
                continue
            status = row.get("status") or ""
            states[(arn, server)] = next(
                (state for prefix, state in _SERVER_STATES if status.startswith(prefix)), status
            )
        return states

    def drain(self, target_group_arn: str, target: str) -> None:
        """Stop sending new requests to ``target`` (``host:port``) of a target group while its
        in-flight requests finish (HAProxy's ``drain`` state). The state survives reloads (with
        the health states) for as long as the target stays in the configuration."""
        self._require_running()
        backend = self._names.backends.get(target_group_arn)
        if backend is None:
            raise DataPlaneError(f"target group {target_group_arn} is not served")
        for server in (target, FAIL_OPEN_PREFIX + target):
            answer = self.runtime(f"set server {backend}/{server} state drain").strip()
            if answer:
                raise DataPlaneError(f"HAProxy would not drain {target} of {target_group_arn}: {answer}")

    # internals

    def _require_running(self) -> None:
        if self._process is None:
            raise DataPlaneError("HAProxy is not started")
        if (reason := self.failure()) is not None:
            raise DataPlaneError(reason)

    def _master(self, command: str) -> str:
        return _ask(self.master_socket, command, self.timeout_s)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(text)
        os.replace(partial, path)

    def _validate(self, binary: str, text: str) -> None:
        candidate = self.folder / "candidate.cfg"
        candidate.write_text(text)
        answer = subprocess.run(
            [binary, "-c", "-q", "-f", str(candidate)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if answer.returncode != 0:
            alerts = [line for line in (answer.stdout + answer.stderr).splitlines() if "ALERT" in line]
            reason = alerts[0] if alerts else (answer.stdout + answer.stderr).strip()
            raise DataPlaneError(f"HAProxy rejects the configuration: {' '.join(reason.split())}")

    def _wait_until(self, ready, what: str, failed_reloads: int | None = None) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            if (reason := self.failure()) is not None:
                raise DataPlaneError(f"HAProxy stopped during {what}: {reason.split(': ', 1)[1]}")
            with contextlib.suppress(OSError):
                processes = _parse_show_proc(self._master("show proc"))
                if failed_reloads is not None and processes.failed_reloads > failed_reloads:
                    raise DataPlaneError(f"HAProxy refused the reload: {self._last_words()}")
                if ready(processes):
                    worker = str(processes.workers[0])
                    if re.search(rf"^Pid: {worker}$", self.runtime("show info"), re.MULTILINE):
                        return
            if time.monotonic() > deadline:
                raise DataPlaneError(
                    f"HAProxy did not finish its {what} within {self.timeout_s:g} s: {self._last_words()}"
                )
            time.sleep(0.05)

    def _log_size(self) -> int:
        try:
            return (self.folder / "haproxy.log").stat().st_size
        except OSError:
            return 0

    def _last_words(self) -> str:
        """HAProxy's first alert since the last start or reload it finished (else its last line)."""
        try:
            with (self.folder / "haproxy.log").open("rb") as output:
                output.seek(self._log_mark)
                lines = output.read().decode(errors="replace").splitlines()
        except (OSError, DataPlaneError):
            return "no output"
        alerts = [line for line in lines if "[ALERT]" in line]
        chosen = alerts[0] if alerts else (lines[-1] if lines else "no output")
        return " ".join(re.sub(r"^\[\w+\]\s+\(\d+\) : ", "", chosen).split())

    def _stop_locked(self) -> None:
        if self._process is not None:
            _stop_family(self._process, self.timeout_s)
            if self._finalizer is not None:
                self._finalizer.detach()
        self._process, self._finalizer, self._config, self._log_mark = None, None, None, 0
        self._names = Names({}, {})
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


# --- request logs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One request (or, on an NLB, one TCP flow) as HAProxy logged it."""

    time: datetime
    """When HAProxy accepted the request (UTC, millisecond resolution; on a keep-alive connection,
    when the connection became ready for this request)."""
    listener: str
    """HAProxy's frontend name (``<load balancer>:<port>``); :meth:`Names.listener_arn` maps it."""
    target_group: str | None
    """HAProxy's backend name (:meth:`Names.target_group_arn` maps it), or None when the listener
    answered itself (redirect, fixed response)."""
    server: str | None
    """The target, ``host:port``, or None when no target was reached (HAProxy's ``<NOSRV>``)."""
    status: int | None
    """HTTP status sent to the client; None for TCP flows."""
    response_ms: float | None
    """Milliseconds from the request sent to the target to its response headers received
    (HAProxy's ``Tr``, ALB's TargetResponseTime); None when no target answered. 1 ms resolution."""
    total_ms: float
    """Milliseconds from the request received to the last byte of the response sent (``Ta``); for
    TCP, the whole flow (``Tt``). 1 ms resolution."""
    bytes: int
    """Bytes sent to the client (response headers and body)."""
    request_bytes: int
    """Bytes received from the client (request headers and body)."""
    termination_state: str
    """HAProxy's termination state: ``--`` normal, ``SC`` target refused, ``sH`` target timed out,
    ``LR`` answered by HAProxy itself, ``CD`` client went away, ..."""
    from_haproxy: bool
    """True for HAProxy's own 502/503/504 (no target, connection refused, timeout, bad answer),
    the ALB's ``HTTPCode_ELB_5XX``; False for a target's 5XX passed through."""


_LINE = re.compile(
    r"(?P<seconds>\d+)\.(?P<ms>\d{3}) (?P<frontend>\S+) (?P<backend>\S+) (?P<server>\S+) "
    r"(?P<status>-?\d+|-) (?P<response>-?\d+) (?P<total>-?\d+) (?P<bytes>\d+) (?P<request>\d+) "
    r"(?P<state>[A-Za-z-]{2,4})\s*$"
)


def parse_line(line: str) -> Record | None:
    """A :class:`Record` from one syslog line HAProxy sent (RFC 3164 or 5424 framing, the message
    in this module's log format), or None for anything else (HAProxy's notices)."""
    message = re.sub(r"^<\d{1,3}>", "", line.strip())
    if "]: " in message:
        message = message.split("]: ", 1)[1]
    match = _LINE.match(message) or _LINE.search(message)
    if match is None:
        return None
    fields = match.groupdict()
    status = None if fields["status"] == "-" or int(fields["status"]) < 0 else int(fields["status"])
    response = int(fields["response"])
    server = None if fields["server"] == "<NOSRV>" else fields["server"].removeprefix(FAIL_OPEN_PREFIX)
    state = fields["state"]
    return Record(
        time=datetime.fromtimestamp(int(fields["seconds"]) + int(fields["ms"]) / 1000, tz=UTC),
        listener=fields["frontend"],
        target_group=None if fields["backend"] == fields["frontend"] else fields["backend"],
        server=server,
        status=status,
        response_ms=float(response) if response >= 0 else None,
        total_ms=float(max(int(fields["total"]), 0)),
        bytes=int(fields["bytes"]),
        request_bytes=int(fields["request"]),
        termination_state=state,
        from_haproxy=status in (502, 503, 504) and (response < 0 or state[:1] in set("SsPRIDUK")),
    )


class AccessLog:
    """A syslog receiver on ``127.0.0.1:<port>`` (a free port unless given) in a thread, for
    HAProxy's request logs: :meth:`drain` hands over the :class:`Record` values that arrived.

    HAProxy forwards its log ring over TCP (syslog over TCP, one line a message), one connection
    per worker (an old worker of a reload keeps its own until it leaves), so no record is lost
    to a full UDP buffer and HAProxy binds no socket beyond loopback for it.

    >>> with AccessLog() as log:  # doctest: +SKIP
    ...     config = DataPlaneConfig(listeners, groups, log_port=log.port)
    """

    def __init__(self, port: int = 0) -> None:
        self._records: list[Record] = []
        self._arrived = threading.Condition()
        self.unparsed = 0
        """Lines that were not request records (HAProxy's notices)."""
        receiver = self

        class Lines(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with contextlib.suppress(ConnectionError):  # a worker that leaves at a reload
                    for line in self.rfile:
                        receiver._take(line.decode(errors="replace"))

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            block_on_close = False
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Lines)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"haproxy-log-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()

    def _take(self, line: str) -> None:
        record = parse_line(line)
        with self._arrived:
            if record is None:
                self.unparsed += 1 if line.strip() else 0
            else:
                self._records.append(record)
                self._arrived.notify_all()

    def drain(self) -> list[Record]:
        """The records that arrived since the last call, oldest first."""
        with self._arrived:
            records, self._records = self._records, []
        return records

    def wait_for(self, count: int, timeout_s: float = 10.0) -> bool:
        """Wait until at least ``count`` records are waiting to be drained; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self._records) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def close(self) -> None:
        """Stop listening (connections HAProxy still holds end when HAProxy stops)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AccessLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
