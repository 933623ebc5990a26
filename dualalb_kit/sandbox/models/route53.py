"""Route 53: hosted zones keep privacy, VPC associations, comment and tags (moto makes every
CloudFormation zone public and drops the rest)."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.route53 import models as route53_models
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

from ._base import GapFillModel, Properties


class HostedZone(GapFillModel, route53_models.FakeZone, CloudFormationModel):
    """``AWS::Route53::HostedZone``: private when the template names VPCs. An update changes the
    VPC associations and the comment in place."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> route53_models.FakeZone:
        backend = route53_backends[account_id][get_partition(region_name)]
        vpcs = properties.get("VPCs", [])
        zone = backend.create_hosted_zone(
            properties.get("Name", resource_name),
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
        return False

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
