"""Route 53: hosted zones keep privacy, VPC associations, comment and tags (moto makes every
CloudFormation zone public and drops the rest). As in Route 53, a VPC holds at most one private
zone of a name: creating or associating a second one fails with ``ConflictingDomainExists``
(moto accepts it). A zone renamed by an update is replaced, and so is a record moved to
another zone or renamed: the new one is made first and the old one deleted once the stack update
succeeded (moto kept the old zone and deleted a moved record from the wrong zone)."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.route53 import models as route53_models
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend, route53_backends
from moto.utilities.utils import get_partition

from ._base import GapFillModel, Properties


class ConflictingDomainExists(Route53ClientError):
    """Route 53's answer to a second private zone of one name on a VPC."""

    def __init__(self, vpc_id: str, vpc_region: str, zone_id: str) -> None:
        super().__init__(
            "ConflictingDomainExists",
            f"The VPC {vpc_id} in region {vpc_region} has already been associated with the hosted zone "
            f"{zone_id} with the same domain name.",
        )


def check_no_conflicting_zone(
    backend: Route53Backend, name: str, vpc: dict[str, str], zone_id: str | None = None
) -> None:
    """Raise ``ConflictingDomainExists`` if a private zone named ``name`` (other than ``zone_id``)
    is associated with ``vpc`` (``{VPCId, VPCRegion}``)."""
    wanted = name.rstrip(".").lower()
    for zone in backend.zones.values():
        same_name = zone.private_zone and zone.name.rstrip(".").lower() == wanted
        if (
            same_name
            and zone.resource_id != zone_id
            and any(v.get("vpc_id") == vpc["VPCId"] for v in zone.vpcs)
        ):
            raise ConflictingDomainExists(vpc["VPCId"], vpc["VPCRegion"], zone.resource_id)


def _zone_name(name: str) -> str:
    return name.rstrip(".").lower()


class HostedZone(GapFillModel, route53_models.FakeZone, CloudFormationModel):
    """``AWS::Route53::HostedZone``: private when the template names VPCs. An update changes the
    VPC associations and the comment in place; a new ``Name`` replaces the zone."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> route53_models.FakeZone:
        backend = route53_backends[account_id][get_partition(region_name)]
        name = properties.get("Name", resource_name)
        vpcs = properties.get("VPCs", [])
        for vpc in vpcs:
            check_no_conflicting_zone(backend, name, vpc)
        zone = backend.create_hosted_zone(
            name,
            private_zone=bool(vpcs),
            vpcid=vpcs[0]["VPCId"] if vpcs else None,
            vpcregion=vpcs[0]["VPCRegion"] if vpcs else None,
            comment=properties.get("HostedZoneConfig", {}).get("Comment"),
        )
        for vpc in vpcs[1:]:
            backend.associate_vpc_with_hosted_zone(zone.resource_id, vpc["VPCId"], vpc["VPCRegion"])
        if properties.get("HostedZoneTags"):
            backend.change_tags_for_resource("hostedzone", zone.resource_id, properties["HostedZoneTags"], [])
        return zone

    @classmethod
    def replaced_on_update(
        cls, original: route53_models.FakeZone, resource_name: str, properties: Properties
    ) -> bool:
        return _zone_name(properties.get("Name", original.name)) != _zone_name(original.name)

    @classmethod
    def update_in_place(
        cls,
        original: route53_models.FakeZone,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> route53_models.FakeZone:
        backend = route53_backends[account_id][get_partition(region_name)]
        wanted = {vpc["VPCId"]: vpc["VPCRegion"] for vpc in properties.get("VPCs", [])}
        current = {vpc["vpc_id"]: vpc["vpc_region"] for vpc in original.vpcs}
        for vpc_id, vpc_region in wanted.items():
            if vpc_id not in current:
                vpc = {"VPCId": vpc_id, "VPCRegion": vpc_region}
                check_no_conflicting_zone(backend, original.name, vpc, original.resource_id)
                backend.associate_vpc_with_hosted_zone(original.resource_id, vpc_id, vpc_region)
        for vpc_id in current.keys() - wanted.keys():
            backend.disassociate_vpc_from_hosted_zone(original.resource_id, vpc_id)
        original.comment = properties.get("HostedZoneConfig", {}).get("Comment")
        return original

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        route53_backends[account_id][get_partition(region_name)].delete_hosted_zone(resource_name)


class RecordSet(GapFillModel, route53_models.RecordSet, CloudFormationModel):
    """``AWS::Route53::RecordSet``: a new ``Name`` or zone replaces the record; any other change
    rewrites it in its zone."""

    moto_model = route53_models.RecordSet

    @classmethod
    def replaced_on_update(
        cls, original: route53_models.RecordSet, resource_name: str, properties: Properties
    ) -> bool:
        wanted = (properties.get("Name"), properties.get("HostedZoneId"), properties.get("HostedZoneName"))
        return wanted != (original.name, original.hosted_zone_id, original.hosted_zone_name)

    @classmethod
    def update_in_place(
        cls,
        original: route53_models.RecordSet,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> route53_models.RecordSet:
        original.delete(account_id, region_name)
        return cls.create(resource_name, properties, account_id, region_name)
