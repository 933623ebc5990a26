"""ELBv2: load balancers, target groups and listeners as the template describes them.

moto's models drop tags, attributes, the load balancer type, target-group health-check
switches, and the attributes CDK reads with ``Fn::GetAtt`` (``CanonicalHostedZoneID`` for
Route 53 aliases, ``LoadBalancerFullName`` and ``TargetGroupFullName`` for request-count
scaling). The CloudFormation resource here is a handle on moto's backend object; the state
stays in moto's ELBv2 backend.
"""

from __future__ import annotations

from typing import Any

from moto.acm.models import CertBundle, acm_backends
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel
from moto.elbv2.exceptions import ListenerNotFoundError
from moto.elbv2.models import elbv2_backends
from moto.iam import iam_backends
from moto.utilities.utils import get_partition

from ._base import tag_dict

SANDBOX_CERTIFICATE_DOMAIN = "sandbox.dualalb.local"
"""Domain of the stand-in certificate the sandbox issues for a certificate ARN it does not hold."""


def ensure_certificates(certificate_arns: list[str], account_id: str, region_name: str) -> None:
    """Make every certificate ARN a listener names exist in the sandbox's ACM.

    A real account holds the user's certificates; the sandbox cannot. For an ARN that neither
    ACM nor IAM knows, it issues a self-signed stand-in under that ARN, so HTTPS listeners
    deploy and ``describe_listeners`` reports the template's ARN.
    """
    acm = acm_backends[account_id][region_name]
    iam = iam_backends[account_id][get_partition(region_name)]
    for arn in certificate_arns:
        if arn in acm._certificates or iam.get_certificate_by_arn(arn) is not None:
            continue
        bundle = CertBundle.generate_cert(
            SANDBOX_CERTIFICATE_DOMAIN, account_id=account_id, region=region_name
        )
        bundle.arn = arn
        acm._certificates[arn] = bundle


class BackendHandle:
    """A CloudFormation resource that stands for one object in a moto backend."""

    def __init__(self, resource: Any, account_id: str, region_name: str) -> None:
        self.resource = resource
        self.account_id = account_id
        self.region_name = region_name

    @property
    def backend(self) -> Any:
        return elbv2_backends[self.account_id][self.region_name]

    @property
    def physical_resource_id(self) -> str:
        return self.resource.arn

    def is_created(self) -> bool:
        return True


class LoadBalancer(BackendHandle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::LoadBalancer`` with type, scheme, attributes and tags."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticLoadBalancingV2::LoadBalancer"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {
            "CanonicalHostedZoneID",
            "DNSName",
            "LoadBalancerArn",
            "LoadBalancerFullName",
            "LoadBalancerName",
            "SecurityGroups",
        }

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        balancer = self.resource
        attributes = {
            "CanonicalHostedZoneID": balancer.canonical_hosted_zone_id,
            "DNSName": balancer.dns_name,
            "LoadBalancerArn": balancer.arn,
            "LoadBalancerFullName": balancer.arn.split(":loadbalancer/", 1)[1],  # app/name/id
            "LoadBalancerName": balancer.name,
            "SecurityGroups": balancer.security_groups,
        }
        if attribute_name not in attributes:
            raise UnformattedGetAttTemplateException()
        return attributes[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> LoadBalancer:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        balancer = backend.create_load_balancer(
            resource_name,
            properties.get("SecurityGroups", []),
            properties.get("Subnets", []),
            subnet_mappings=properties.get("SubnetMappings"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
            ip_address_type=properties.get("IpAddressType", "ipv4"),
            tags=properties.get("Tags"),
        )
        handle = cls(balancer, account_id, region_name)
        handle.apply_attributes(properties)
        return handle

    def apply_attributes(self, properties: dict[str, Any]) -> None:
        attributes = {item["Key"]: item["Value"] for item in properties.get("LoadBalancerAttributes", [])}
        if attributes:
            self.backend.modify_load_balancer_attributes(self.resource.arn, attributes)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: LoadBalancer,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> LoadBalancer:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        balancer = original_resource.resource
        if balancer.name != new_resource_name or balancer.scheme != properties.get(
            "Scheme", "internet-facing"
        ):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        if properties.get("SecurityGroups"):
            backend.set_security_groups(balancer.arn, properties["SecurityGroups"])
        _replace_tags(backend, balancer.arn, properties.get("Tags"))
        original_resource.apply_attributes(properties)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_load_balancer(self.resource.arn)


def _replace_tags(backend: Any, arn: str, tags: list[dict[str, str]] | None) -> None:
    current = backend.describe_tags([arn])[arn]
    stale = [key for key in current if key not in tag_dict(tags)]
    if stale:
        backend.remove_tags([arn], stale)
    if tags:
        backend.add_tags([arn], tags)


TARGET_GROUP_ARGUMENTS = {
    "VpcId": "vpc_id",
    "Protocol": "protocol",
    "ProtocolVersion": "protocol_version",
    "Port": "port",
    "HealthCheckProtocol": "healthcheck_protocol",
    "HealthCheckPort": "healthcheck_port",
    "HealthCheckPath": "healthcheck_path",
    "HealthCheckIntervalSeconds": "healthcheck_interval_seconds",
    "HealthCheckTimeoutSeconds": "healthcheck_timeout_seconds",
    "HealthyThresholdCount": "healthy_threshold_count",
    "UnhealthyThresholdCount": "unhealthy_threshold_count",
    "Matcher": "matcher",
    "TargetType": "target_type",
    "IpAddressType": "ip_address_type",
    "Tags": "tags",
}
"""CloudFormation target-group properties and moto's ``create_target_group`` keywords."""


class TargetGroup(BackendHandle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::TargetGroup`` with health check, attributes and tags."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticLoadBalancingV2::TargetGroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in {"LoadBalancerArns", "TargetGroupArn", "TargetGroupFullName", "TargetGroupName"}

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        group = self.resource
        attributes = {
            "LoadBalancerArns": group.load_balancer_arns,
            "TargetGroupArn": group.arn,
            "TargetGroupFullName": group.arn.split(":", 5)[5],  # targetgroup/name/id
            "TargetGroupName": group.name,
        }
        if attribute_name not in attributes:
            raise UnformattedGetAttTemplateException()
        return attributes[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> TargetGroup:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        arguments = {
            keyword: properties[name]
            for name, keyword in TARGET_GROUP_ARGUMENTS.items()
            if name in properties
        }
        if "HealthCheckEnabled" in properties:
            arguments["healthcheck_enabled"] = str(properties["HealthCheckEnabled"]).lower()
        handle = cls(backend.create_target_group(name=resource_name, **arguments), account_id, region_name)
        handle.apply_attributes(properties)
        return handle

    def apply_attributes(self, properties: dict[str, Any]) -> None:
        attributes = {item["Key"]: item["Value"] for item in properties.get("TargetGroupAttributes", [])}
        if attributes:
            self.backend.modify_target_group_attributes(self.resource.arn, attributes)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: TargetGroup,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> TargetGroup:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        group = original_resource.resource
        replaced_by = ("Port", "Protocol", "TargetType", "VpcId")
        if group.name != new_resource_name or any(
            name in properties and str(properties[name]) != str(getattr(group, _snake(name)))
            for name in replaced_by
        ):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        backend.modify_target_group(
            group.arn,
            health_check_proto=properties.get("HealthCheckProtocol"),
            health_check_port=properties.get("HealthCheckPort"),
            health_check_path=properties.get("HealthCheckPath"),
            health_check_interval=properties.get("HealthCheckIntervalSeconds"),
            health_check_timeout=properties.get("HealthCheckTimeoutSeconds"),
            healthy_threshold_count=properties.get("HealthyThresholdCount"),
            unhealthy_threshold_count=properties.get("UnhealthyThresholdCount"),
            http_codes=properties.get("Matcher", {}).get("HttpCode"),
            health_check_enabled=properties.get("HealthCheckEnabled"),
        )
        _replace_tags(backend, group.arn, properties.get("Tags"))
        original_resource.apply_attributes(properties)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_target_group(self.resource.arn)


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)


class Listener(BackendHandle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::Listener`` with port, protocol, certificates, default actions.

    Certificates the sandbox does not hold are issued as stand-ins (``ensure_certificates``).
    """

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticLoadBalancingV2::Listener"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "ListenerArn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name != "ListenerArn":
            raise UnformattedGetAttTemplateException()
        return self.resource.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Listener:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        certificates = properties.get("Certificates", [])
        ensure_certificates([item["CertificateArn"] for item in certificates], account_id, region_name)
        listener = backend.create_listener(
            properties["LoadBalancerArn"],
            properties.get("Protocol"),
            properties.get("Port"),
            properties.get("SslPolicy"),
            certificates[0]["CertificateArn"] if certificates else None,
            backend.convert_and_validate_properties(properties),
            alpn_policy=properties.get("AlpnPolicy"),
        )
        return cls(listener, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Listener,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Listener:
        properties = cloudformation_json["Properties"]
        backend = elbv2_backends[account_id][region_name]
        if properties["LoadBalancerArn"] != original_resource.resource.load_balancer_arn:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
        certificates = properties.get("Certificates", [])
        ensure_certificates([item["CertificateArn"] for item in certificates], account_id, region_name)
        backend.modify_listener(
            original_resource.resource.arn,
            properties.get("Port"),
            properties.get("Protocol"),
            properties.get("SslPolicy"),
            certificates,
            backend.convert_and_validate_properties(properties),
        )
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        """Deleting a load balancer deletes its listeners; a listener already gone is deleted."""
        try:
            self.backend.delete_listener(self.resource.arn)
        except ListenerNotFoundError:
            pass


class ListenerCertificate(CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::ListenerCertificate``: extra certificates on a listener."""

    def __init__(self, listener_arn: str, certificate_arns: list[str]) -> None:
        self.listener_arn = listener_arn
        self.certificate_arns = certificate_arns

    @property
    def physical_resource_id(self) -> str:
        return f"{self.listener_arn}|{'|'.join(self.certificate_arns)}"

    def is_created(self) -> bool:
        return True

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ElasticLoadBalancingV2::ListenerCertificate"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> ListenerCertificate:
        properties = cloudformation_json["Properties"]
        certificate_arns = [item["CertificateArn"] for item in properties["Certificates"]]
        ensure_certificates(certificate_arns, account_id, region_name)
        elbv2_backends[account_id][region_name].add_listener_certificates(
            properties["ListenerArn"], properties["Certificates"]
        )
        return cls(properties["ListenerArn"], certificate_arns)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: ListenerCertificate,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> ListenerCertificate:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        elbv2_backends[account_id][region_name].remove_listener_certificates(
            self.listener_arn, [{"CertificateArn": arn} for arn in self.certificate_arns]
        )
