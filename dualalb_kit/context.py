"""CDK context lookups in-process: answer a cloud assembly's missing context with boto3.

A stack bound to an account and region that calls ``Vpc.from_lookup`` or reads
``Stack.availability_zones`` synthesizes with dummy values and lists what it needs under
``missing`` in the assembly's manifest (:mod:`dualalb_kit.assembly` reads it). The CDK CLI
would look those up and synthesize again; a notebook synthesizes in-process, so this module
does the CLI's part: ``resolve_missing`` answers each entry with boto3 on the same ``Target``
as the deploy, in the shapes the CLI's context providers return. ``synth.synth`` runs the
synthesize -> resolve -> cache -> synthesize loop; values are cached in the CLI's
``cdk.context.json`` format (``load_cache`` / ``save_cache``), so the CLI and the kit share a
cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .assembly import read_assembly
from .errors import ContextLookupError

if TYPE_CHECKING:
    from .target import Target

SUPPORTED_PROVIDERS = ("vpc-provider", "availability-zones")


def missing_context(assembly_dir: str | Path) -> list[dict[str, Any]]:
    """The ``missing`` entries (``{key, provider, props}``) of the assembly in ``assembly_dir``."""
    return read_assembly(assembly_dir).missing


def resolve_missing(
    missing: list[dict[str, Any]],
    *,
    target: Target | None = None,
) -> dict[str, Any]:
    """Answer missing-context entries with boto3 on ``target``; returns ``{context key: value}``.

    ``target`` defaults to AWS with the environment's credentials (see
    :func:`dualalb_kit.target.as_target`); its region applies to entries whose props name none.
    Supported providers: ``vpc-provider`` (``Vpc.from_lookup``) and ``availability-zones``.
    Raises ``ContextLookupError`` for a lookup that finds nothing (with the CDK CLI's message,
    e.g. ``Could not find any VPCs matching ...``) and for an unsupported provider.
    """
    from .target import as_target  # boto3 loads only when a lookup is asked

    where = as_target(target)
    values: dict[str, Any] = {}
    for entry in missing:
        provider, props = entry["provider"], entry.get("props", {})
        lookup = _PROVIDERS.get(provider)
        if lookup is None:
            raise ContextLookupError(
                provider,
                f"context provider {provider!r} (key {entry['key']}) is not supported in-process; "
                f"supported: {', '.join(SUPPORTED_PROVIDERS)}. Synthesize with the CDK CLI instead.",
            )
        ec2 = replace(where, region=props.get("region") or where.region).client("ec2")
        values[entry["key"]] = lookup(ec2, props)
    return values


def availability_zones(ec2: Any, props: dict[str, Any]) -> list[str]:
    """The ``availability-zones`` provider: names of the region's available zones."""
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    return [zone["ZoneName"] for zone in zones if zone.get("State") == "available"]


def vpc_context(ec2: Any, props: dict[str, Any]) -> dict[str, Any]:
    """The ``vpc-provider``: the ``VpcContextResponse`` the CDK CLI returns for ``Vpc.from_lookup``.

    Follows aws-cdk's ``context-providers/vpcs.ts``: the filter's entries are EC2 filters,
    exactly one VPC must match, subnet types come from the ``aws-cdk:subnet-type`` tag, else
    public IP on launch or a route to an internet gateway (Public), to a NAT or transit gateway
    (Private), else Isolated; subnet names from ``subnetGroupNameTag`` (default
    ``aws-cdk:subnet-name``), else the type.
    """
    vpc = _the_vpc(ec2, props)
    in_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    route_tables = ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
    subnets = [
        _subnet_props(subnet, route_tables, props.get("subnetGroupNameTag"))
        for subnet in ec2.describe_subnets(Filters=in_vpc)["Subnets"]
    ]
    groups = _group_subnets(subnets)
    response: dict[str, Any] = {
        "vpcId": vpc["VpcId"],
        "vpcCidrBlock": vpc["CidrBlock"],
        "ownerAccountId": vpc.get("OwnerId"),
    }
    if props.get("returnAsymmetricSubnets"):
        response["availabilityZones"] = []
        response["subnetGroups"] = _asymmetric_subnets(groups)
    else:
        response.update(_symmetric_subnets(groups))
    if props.get("returnVpnGateways", True):
        response["vpnGatewayId"] = _vpn_gateway(ec2, vpc["VpcId"])
    return {key: value for key, value in response.items() if value is not None}


def _the_vpc(ec2: Any, props: dict[str, Any]) -> dict[str, Any]:
    """The one VPC the lookup's filter matches (a ContextLookupError for none or several)."""
    filters = [{"Name": name, "Values": [value]} for name, value in props.get("filter", {}).items()]
    vpcs = ec2.describe_vpcs(Filters=filters)["Vpcs"]
    if len(vpcs) != 1:
        where = f"{json.dumps(props.get('filter', {}))} in aws://{props.get('account')}/{props.get('region')}"
        message = (
            f"Could not find any VPCs matching {where}"
            if not vpcs
            else f"Found {len(vpcs)} VPCs matching {where}; please narrow the search criteria"
        )
        raise ContextLookupError("vpc-provider", message)
    return vpcs[0]


def _asymmetric_subnets(groups: dict[tuple[str, str], list[dict[str, str]]]) -> list[dict[str, Any]]:
    """``returnAsymmetricSubnets``: one group per subnet type and name, each subnet as it is."""
    return [
        {
            "name": name,
            "type": subnet_type,
            "subnets": [
                {
                    "subnetId": s["subnetId"],
                    "cidr": s["cidr"],
                    "availabilityZone": s["az"],
                    "routeTableId": s["routeTableId"],
                }
                for s in members
            ],
        }
        for (subnet_type, name), members in groups.items()
    ]


def _vpn_gateway(ec2: Any, vpc_id: str) -> str | None:
    """The VPN gateway attached to the VPC when there is exactly one, else ``None``."""
    gateways = ec2.describe_vpn_gateways(
        Filters=[
            {"Name": "attachment.vpc-id", "Values": [vpc_id]},
            {"Name": "attachment.state", "Values": ["attached"]},
            {"Name": "state", "Values": ["available"]},
        ]
    )["VpnGateways"]
    return gateways[0]["VpnGatewayId"] if len(gateways) == 1 else None


def _tag(tags: Iterable[dict[str, str]] | None, key: str) -> str | None:
    return next((tag["Value"] for tag in tags or () if tag["Key"] == key), None)


def _route_table_for(subnet_id: str, route_tables: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The subnet's own route table, else the VPC's main one."""

    def associated(table: dict[str, Any], test: Callable[[dict[str, Any]], bool]) -> bool:
        return any(test(association) for association in table.get("Associations", []))

    own = next((t for t in route_tables if associated(t, lambda a: a.get("SubnetId") == subnet_id)), None)
    return own or next((t for t in route_tables if associated(t, lambda a: bool(a.get("Main")))), None)


def _subnet_props(
    subnet: dict[str, Any], route_tables: list[dict[str, Any]], name_tag: str | None
) -> dict[str, str]:
    table = _route_table_for(subnet["SubnetId"], route_tables)
    routes = table.get("Routes", []) if table else []
    subnet_type = _tag(subnet.get("Tags"), "aws-cdk:subnet-type")
    if subnet_type is None:
        to_internet_gateway = any(str(r.get("GatewayId", "")).startswith("igw-") for r in routes)
        to_nat_or_transit = any(
            (r.get("NatGatewayId") or r.get("TransitGatewayId"))
            and r.get("DestinationCidrBlock") == "0.0.0.0/0"
            for r in routes
        )
        if subnet.get("MapPublicIpOnLaunch") or to_internet_gateway:
            subnet_type = "Public"
        else:
            subnet_type = "Private" if to_nat_or_transit else "Isolated"
    if subnet_type not in ("Public", "Private", "Isolated"):
        raise ContextLookupError(
            "vpc-provider",
            f"Subnet {subnet['SubnetId']} has invalid subnet type {subnet_type} "
            "(must be Public, Private or Isolated)",
        )
    name = _tag(subnet.get("Tags"), name_tag or "aws-cdk:subnet-name")
    if name_tag and name is None:
        raise ContextLookupError(
            f"Invalid subnetGroupNameTag: Subnet {subnet['SubnetId']} has no tag {name_tag!r}"
        )
    if table is None:
        raise ContextLookupError(
            f"Subnet {subnet['SubnetId']} has no associated route table (and no main table)"
        )
    return {
        "az": subnet["AvailabilityZone"],
        "cidr": subnet["CidrBlock"],
        "type": subnet_type,
        "name": name or subnet_type,
        "subnetId": subnet["SubnetId"],
        "routeTableId": table["RouteTableId"],
    }


def _group_subnets(subnets: list[dict[str, str]]) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Subnets by (type, name), each group sorted by availability zone."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for subnet in subnets:
        groups.setdefault((subnet["type"], subnet["name"]), []).append(subnet)
    return {key: sorted(members, key=lambda s: s["az"]) for key, members in groups.items()}


def _symmetric_subnets(groups: dict[tuple[str, str], list[dict[str, str]]]) -> dict[str, Any]:
    """The older response shape: one list per subnet type, every group spanning the same zones."""
    zones = [s["az"] for s in next(iter(groups.values()), [])]
    for members in groups.values():
        if [s["az"] for s in members] != zones:
            raise ContextLookupError(
                f"Not all subnets in VPC have the same AZs: {[s['az'] for s in members]} vs {zones}"
            )
    response: dict[str, Any] = {"availabilityZones": zones}
    for subnet_type in ("Isolated", "Private", "Public"):
        typed = [(name, members) for (kind, name), members in groups.items() if kind == subnet_type]
        prefix = subnet_type.lower()
        response[f"{prefix}SubnetIds"] = [s["subnetId"] for _, members in typed for s in members] or None
        response[f"{prefix}SubnetNames"] = [name for name, _ in typed] or None
        response[f"{prefix}SubnetRouteTableIds"] = [
            s["routeTableId"] for _, members in typed for s in members
        ] or None
    return response


_PROVIDERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "vpc-provider": vpc_context,
    "availability-zones": availability_zones,
}


def load_cache(path: str | Path) -> dict[str, Any]:
    """Context values from a ``cdk.context.json`` file (``{}`` when the file does not exist)."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def save_cache(path: str | Path, values: dict[str, Any]) -> None:
    """Write context values to ``path`` in the ``cdk.context.json`` format."""
    Path(path).write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
