"""The load balancer (ALB or NLB) -> listener -> service picture of a synthesized template, as a
table and as SVG.

``topology(template)`` reads the CloudFormation template (no CDK, no AWS) into one row per
listener action, ``spec_topology(spec)`` makes the same table from a spec before synthesis;
``Diagram(template)`` (or ``Diagram.from_spec(spec)``) draws it as SVG, three columns left to right, and shows
itself in a notebook (``_repr_svg_``) or inside an HTML report (``.svg``). pandas loads when the
first table is made, not with the module.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from .tags import SERVICE_TAG
from .template import data_frame, referenced_id
from .validation import SIDES

if TYPE_CHECKING:
    import pandas as pd

    from .spec import DeploymentSpec

_ALB = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
_TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
_SERVICE = "AWS::ECS::Service"

TOPOLOGY_COLUMNS = [
    "alb",
    "scheme",
    "port",
    "protocol",
    "action",
    "service",
    "desired_count",
    "capacity",
    "load_balancer",
]

_BOX_WIDTH, _ROW_GAP, _COLUMN_GAP, _MARGIN = 140, 12, 24, 8
"""In SVG pixels: three columns of boxes fit 484 px, so a notebook's preview column shows the
diagram at (nearly) its own size."""
_FONT_SIZE, _LINE_HEIGHT, _PADDING = 12, 15, 7
CHARS_PER_LINE = int((_BOX_WIDTH - 2 * _PADDING) / (0.6 * _FONT_SIZE))
"""How many characters of a label fit one line of a box (at 0.6 em a character, wide enough for
sans-serif capitals such as FARGATE_SPOT); longer labels wrap onto more lines."""
_COLORS = {"internet-facing": "#ffe2b8", "internal": "#d6e8ff", "listener": "#eeeeee", "service": "#d9f2d9"}


def topology(template: dict[str, Any]) -> pd.DataFrame:
    """One row per listener action, ALBs in template order, listeners by port; a service that a
    listener forwards to through several groups or rules (blue/green's alternate target group, a
    rule and the default action) is one row.

    Columns: ``alb`` (the side: ``external``/``internal``), ``scheme``, ``port``, ``protocol``,
    ``action`` (``forward`` or ``redirect to HTTPS:443``), ``service`` (task name; None for a
    redirect), ``desired_count`` and ``capacity`` (``FARGATE_SPOT x1`` style) of that service,
    ``load_balancer`` (``ALB``, or ``NLB`` for a Network Load Balancer).
    """
    resources = template.get("Resources", {})
    of_type = {
        kind: {lid: res.get("Properties", {}) for lid, res in resources.items() if res["Type"] == kind}
        for kind in (_ALB, _LISTENER, _TARGET_GROUP, _SERVICE, _RULE)
    }
    services_by_group = _services_by_group(of_type[_SERVICE])
    rows = []
    for alb_id, alb in of_type[_ALB].items():
        scheme = alb.get("Scheme", "internet-facing")
        load_balancer = {
            "alb": "external" if scheme == "internet-facing" else "internal",
            "scheme": scheme,
            "load_balancer": "NLB" if alb.get("Type") == "network" else "ALB",
        }
        listeners = [
            (listener_id, props)
            for listener_id, props in of_type[_LISTENER].items()
            if referenced_id(props.get("LoadBalancerArn")) == alb_id
        ]
        for listener_id, listener in sorted(listeners, key=lambda item: item[1].get("Port", 0)):
            rules = sorted(
                (
                    rule
                    for rule in of_type[_RULE].values()
                    if referenced_id(rule.get("ListenerArn")) == listener_id
                ),
                key=lambda rule: rule.get("Priority", 0),
            )  # forward_conditions: the listener's rules come before its default action
            actions = [a for rule in rules for a in rule.get("Actions", [])] + listener.get(
                "DefaultActions", []
            )
            row = {
                **load_balancer,
                "port": listener.get("Port"),
                "protocol": listener.get("Protocol", "HTTP"),
            }
            rows += _action_rows(row, actions, services_by_group)
    return data_frame(rows, TOPOLOGY_COLUMNS)


def _services_by_group(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each target group's service (by the group's logical id): its name, desired count and
    capacity label; blue/green's alternate group as well."""
    by_group: dict[str, dict[str, Any]] = {}
    for logical_id, props in services.items():
        for binding in props.get("LoadBalancers", []):
            service = {
                "service": _tag(props, SERVICE_TAG) or binding.get("ContainerName") or logical_id,
                "desired_count": props.get("DesiredCount"),
                "capacity": capacity_label(
                    (item["CapacityProvider"], item.get("Base", 0), item.get("Weight", 0))
                    for item in props.get("CapacityProviderStrategy", [])
                ),
            }
            alternate = binding.get("AdvancedConfiguration", {}).get("AlternateTargetGroupArn")
            for group in filter(None, (binding.get("TargetGroupArn"), alternate)):
                by_group[referenced_id(group)] = service
    return by_group


def _action_rows(
    row: dict[str, Any], actions: list[dict[str, Any]], services_by_group: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One listener's rows (``row`` holds its load balancer and port): a redirect, or each service
    its actions forward to, once (blue/green groups, a rule and the default action)."""
    rows: list[dict[str, Any]] = []
    forwarded = set()
    for action in actions:
        if action.get("Type") == "redirect":
            config = action.get("RedirectConfig", {})
            target = f"{config.get('Protocol', 'HTTPS')}:{config.get('Port', '443')}"
            rows.append(
                {
                    **row,
                    "action": f"redirect to {target}",
                    "service": None,
                    "desired_count": None,
                    "capacity": None,
                }
            )
            continue
        groups = [action.get("TargetGroupArn")] + [
            group.get("TargetGroupArn") for group in action.get("ForwardConfig", {}).get("TargetGroups", [])
        ]
        for group in filter(None, groups):
            service = services_by_group.get(referenced_id(group), {"service": referenced_id(group)})
            if service["service"] in forwarded:
                continue
            forwarded.add(service["service"])
            rows.append({**row, "action": "forward", "desired_count": None, "capacity": None, **service})
    return rows


PLACEMENT_COLUMNS = ["service", "desired_count", "on_demand_tasks", "spot_tasks", "strategy"]


def service_placement(template: dict[str, Any]) -> pd.DataFrame:
    """Where ECS places each service's desired tasks, one row per ``AWS::ECS::Service``.

    Columns: ``service`` (task name), ``desired_count``, ``on_demand_tasks`` (FARGATE),
    ``spot_tasks`` (FARGATE_SPOT), ``strategy`` (as :func:`capacity_label`; empty: the cluster's
    default). The split is :func:`dualalb_kit.placement.split_tasks`, the cost model's placement too.
    """
    from .placement import split_tasks

    rows = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] != _SERVICE:
            continue
        props = resource.get("Properties", {})
        strategy = [
            (item["CapacityProvider"], item.get("Base", 0), item.get("Weight", 0))
            for item in props.get("CapacityProviderStrategy", [])
        ]
        desired = props.get("DesiredCount", 1)  # ECS's default when the template leaves it out
        placed = (
            split_tasks(desired, [{"provider": p, "base": b, "weight": w} for p, b, w in strategy])
            if strategy
            else {"FARGATE": desired}
        )
        rows.append(
            (
                _tag(props, SERVICE_TAG) or logical_id,
                desired,
                placed.get("FARGATE", 0),
                placed.get("FARGATE_SPOT", 0),
                capacity_label(strategy),
            )
        )
    return data_frame(rows, PLACEMENT_COLUMNS)


def spec_topology(spec: DeploymentSpec) -> pd.DataFrame:
    """:func:`topology`'s table for a spec, without synthesis: the listeners the construct makes.

    External load balancer first, listeners by port; a listener with a certificate is HTTPS (TLS
    behind an NLB, or the task's ``protocol``), and an external HTTPS listener on 443 of an ALB
    gets a port-80 redirect when no task listens on external port 80.
    """
    nlb = spec.load_balancer == "nlb"
    kind = spec.load_balancer.upper()
    rows = []
    for side in SIDES:
        listening = sorted(
            ((alb, task) for task in spec.tasks if (alb := getattr(task, side)) is not None),
            key=lambda pair: pair[0].port,
        )
        ports = {alb.port for alb, _ in listening}
        scheme = "internet-facing" if side == "external" else "internal"
        redirect = (
            not nlb
            and side == "external"
            and 80 not in ports
            and any(a.port == 443 and a.cert_arns for a, _ in listening)
        )
        if redirect:
            rows.append((side, scheme, 80, "HTTP", "redirect to HTTPS:443", None, None, None, kind))
        for alb, task in listening:
            strategy = task.capacity_strategy(spec.spot)
            if nlb:
                protocol = task.protocol or ("TLS" if alb.cert_arns else "TCP")
            else:
                protocol = "HTTPS" if alb.cert_arns else "HTTP"
            rows.append(
                (
                    side,
                    scheme,
                    alb.port,
                    protocol,
                    "forward",
                    task.name,
                    task.desired_count,
                    capacity_label((item.provider, item.base, item.weight) for item in strategy),
                    kind,
                )
            )
    return data_frame(rows, TOPOLOGY_COLUMNS)


def capacity_label(strategy: Iterable[tuple[str, int, int]]) -> str:
    """A strategy of ``(provider, base, weight)`` items as ``FARGATE x1 (base 1), FARGATE_SPOT x3``."""
    return ", ".join(
        f"{provider} x{weight}" + (f" (base {base})" if base else "") for provider, base, weight in strategy
    )


def wrap_label(text: str) -> list[str]:
    """``text`` as the lines a diagram box shows: at most :data:`CHARS_PER_LINE` characters each,
    broken after a comma or at spaces where possible (a longer word is split)."""
    return textwrap.wrap(text, CHARS_PER_LINE) or [""]


def _tag(props: dict[str, Any], key: str) -> str | None:
    return next((tag["Value"] for tag in props.get("Tags", []) if tag.get("Key") == key), None)


@dataclass
class _Box:
    key: str
    column: int
    lines: tuple[str, ...]
    fill: str


class Diagram:
    """ALBs -> listeners -> services as SVG; ``.table`` is the :func:`topology` frame."""

    def __init__(self, template: dict[str, Any], *, table: pd.DataFrame | None = None) -> None:
        self.table = topology(template) if table is None else table

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> Diagram:
        """The diagram of a spec as the construct builds it, without synthesis (:func:`spec_topology`)."""
        return cls({}, table=spec_topology(spec))

    @property
    def svg(self) -> str:
        """The diagram as a standalone ``<svg>`` element: each box tall enough for its wrapped
        label (:func:`wrap_label`), the first line bold."""
        boxes, edges = self._layout()
        column_bottom = [_MARGIN] * 3
        placed: dict[str, tuple[int, int, int]] = {}  # key -> x, y, height
        shapes = []
        for box in boxes:
            labels = [wrap_label(line) for line in box.lines]
            box_height = 2 * _PADDING + sum(map(len, labels)) * _LINE_HEIGHT
            x, y = _MARGIN + box.column * (_BOX_WIDTH + _COLUMN_GAP), column_bottom[box.column]
            column_bottom[box.column] += box_height + _ROW_GAP
            placed[box.key] = (x, y, box_height)
            shapes.append(
                f'<rect x="{x}" y="{y}" width="{_BOX_WIDTH}" height="{box_height}" rx="6" '
                f'fill="{box.fill}" stroke="#555"/>'
            )
            baseline = y + _PADDING + _LINE_HEIGHT - 3
            for index, parts in enumerate(labels):
                # one <text> a label: its lines are tspans, a space apart, so the text reads whole
                lines = " ".join(
                    f'<tspan x="{x + _PADDING}" y="{baseline + row * _LINE_HEIGHT}">{escape(part)}</tspan>'
                    for row, part in enumerate(parts)
                )
                weight = "bold" if index == 0 else "normal"
                shapes.append(f'<text font-weight="{weight}">{lines}</text>')
                baseline += len(parts) * _LINE_HEIGHT
        for start, end in edges:
            (x1, y1, h1), (x2, y2, h2) = placed[start], placed[end]
            shapes.append(
                f'<line x1="{x1 + _BOX_WIDTH}" y1="{y1 + h1 // 2}" x2="{x2}" y2="{y2 + h2 // 2}" '
                'stroke="#333" stroke-width="1.5"/>'
            )
        width = _MARGIN * 2 + 3 * _BOX_WIDTH + 2 * _COLUMN_GAP
        height = max(max(column_bottom) - _ROW_GAP + _MARGIN, 2 * _MARGIN + _LINE_HEIGHT)
        return "".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" class="dualalb-diagram" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
                f'font-size="{_FONT_SIZE}">',
                *shapes,
                "</svg>",
            ]
        )

    def _layout(self) -> tuple[list[_Box], list[tuple[str, str]]]:
        boxes: dict[str, _Box] = {}
        edges: list[tuple[str, str]] = []
        for row in self.table.itertuples(index=False):
            alb_key, listener_key = f"alb:{row.alb}", f"listener:{row.alb}:{row.port}"
            boxes.setdefault(
                alb_key, _Box(alb_key, 0, (f"{row.alb} {row.load_balancer}", row.scheme), _COLORS[row.scheme])
            )
            boxes.setdefault(
                listener_key,
                _Box(listener_key, 1, (f"{row.protocol} :{row.port}", row.action), _COLORS["listener"]),
            )
            if (alb_key, listener_key) not in edges:
                edges.append((alb_key, listener_key))
            if isinstance(row.service, str):
                service_key = f"service:{row.service}"
                detail = (
                    f"{row.desired_count} x {row.capacity}"
                    if row.capacity
                    else f"desired {row.desired_count}"
                )
                boxes.setdefault(
                    service_key, _Box(service_key, 2, (str(row.service), detail), _COLORS["service"])
                )
                edges.append((listener_key, service_key))
        return list(boxes.values()), edges

    def _repr_svg_(self) -> str:
        return self.svg
