"""HAProxy's configuration for the sandbox's ALBs and NLBs: :func:`render_config` turns a
:class:`~dualalb_kit.sandbox.live.model.DataPlaneConfig` into it, from the jinja2 template
``dualalb_kit/data/haproxy.cfg.j2`` (:mod:`.haproxy` runs it).

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
  :meth:`.haproxy.HAProxy.drain` puts a target in HAProxy's ``drain`` state through the runtime
  API (no new requests, in-flight ones finish) for a caller that wants to time the delay per
  target group itself before the reload that removes it;
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

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...errors import DataPlaneError
from ...loopback import is_loopback_host
from .access_log import HTTP_LOG_FORMAT, TCP_LOG_FORMAT
from .haproxy_names import FAIL_OPEN_PREFIX, Names, names, server_name
from .model import Action, Condition, DataPlaneConfig, Listener, Rule, TargetGroup

IDLE_TIMEOUT_S = 60
"""The ALB's default idle timeout; also the least ``hard-stop-after``."""

_HTTP_PROTOCOLS = {"HTTP": "http", "HTTPS": "https"}
_TCP_PROTOCOLS = {"TCP", "TLS"}
_TCP_TARGET_PROTOCOLS = {"TCP", "TLS", "UDP", "TCP_UDP"}
_NO_TARGET = "_no_target_"
"""Prefix of the empty backends a forward whose weights are all 0 uses (TG names have no ``_``)."""


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
        server = server_name(target.host, target.port)
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


def _frontend_mode(listener: Listener) -> str:
    """``http`` for an ALB's listener, ``tcp`` for an NLB's (which has a default action only)."""
    protocol = listener.protocol.upper()
    where = f"listener {listener.arn}"
    if protocol in _HTTP_PROTOCOLS:
        return "http"
    if protocol not in _TCP_PROTOCOLS:
        raise DataPlaneError(f"{where}: protocol {protocol} is not served (HTTP, HTTPS, TCP or TLS)")
    if listener.rules:
        raise DataPlaneError(f"{where} ({protocol}) has rules; an NLB listener has a default action only")
    return "tcp"


def _condition_acl(listener: Listener, rule: Rule, index: int, condition: Condition) -> _Acl:
    """The ACL named ``p<priority>_c<index>`` that matches one condition of ``rule``."""
    where = f"listener {listener.arn}: rule {rule.priority}"
    if not condition.values:
        raise DataPlaneError(f"{where} has a {condition.field} condition without values")
    name = f"p{rule.priority}_c{index}"
    if condition.field == "host-header":
        return _Acl(name, "hdr_reg(host) -i", host_regex(condition.values))
    if condition.field == "path-pattern":
        return _Acl(name, "path_reg", path_regex(condition.values))
    raise DataPlaneError(f"{where}: condition {condition.field!r} is not served")


def _rule_views(
    listener: Listener, config: DataPlaneConfig, known: Names, mode: str, empties: set[str]
) -> list[_RuleView]:
    """The listener's rules in ascending priority (two of one priority are refused), then its
    default action."""
    rules = []
    seen: set[int] = set()
    for rule in sorted(listener.rules, key=lambda rule: rule.priority):
        if rule.priority in seen:
            raise DataPlaneError(f"listener {listener.arn}: two rules have priority {rule.priority}")
        seen.add(rule.priority)
        acls = [_condition_acl(listener, rule, index, c) for index, c in enumerate(rule.conditions)]
        described = [f"{c.field} in ({', '.join(c.values)})" for c in rule.conditions]
        rules.append(
            _RuleView(
                f"p{rule.priority}",
                f"priority {rule.priority}: {' and '.join(described) or 'always'} -> {rule.action.type}",
                tuple(acls),
                tuple(acl.name for acl in acls),
                _action_view(listener, rule.action, config, known, mode, empties),
            )
        )
    default = _action_view(listener, listener.default_action, config, known, mode, empties)
    rules.append(_RuleView("default", f"default action -> {listener.default_action.type}", (), (), default))
    return rules


def _frontend_view(
    listener: Listener, config: DataPlaneConfig, known: Names, empties: set[str]
) -> _FrontendView:
    protocol = listener.protocol.upper()
    mode = _frontend_mode(listener)
    tls = protocol in ("HTTPS", "TLS")
    if tls and not config.certificate_pem:
        raise DataPlaneError(
            f"listener {listener.arn} ({protocol}) needs a certificate: "
            "DataPlaneConfig.certificate_pem is not set"
        )
    return _FrontendView(
        name=known.frontends[listener.arn],
        comment=f"{listener.load_balancer} {protocol}:{listener.port} ({listener.arn})",
        mode=mode,
        local_port=listener.local_port,
        tls=tls,
        scheme=_HTTP_PROTOCOLS.get(protocol, protocol.lower()),
        port=listener.port,
        rules=tuple(_rule_views(listener, config, known, mode, empties)),
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
