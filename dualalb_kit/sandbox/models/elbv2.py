"""ELBv2: load balancers, target groups and listeners as the template describes them.

moto's models drop tags, attributes, the load balancer type, target-group health-check
switches, an NLB's own ARN and DNS name, and the attributes CDK reads with ``Fn::GetAtt``
(``CanonicalHostedZoneID`` for Route 53 aliases, ``LoadBalancerFullName`` and
``TargetGroupFullName`` for request-count scaling). The CloudFormation resource here is a
handle on moto's backend object; the state stays in moto's ELBv2 backend. ``DescribeListeners``
lists a listener's default certificate only, as ELBv2 does (moto lists its SNI certificates too;
``DescribeListenerCertificates`` has them all).
"""

from __future__ import annotations

from operator import attrgetter
from types import SimpleNamespace
from typing import Any, ClassVar, Self

from botocore import xform_name
from moto.acm.models import CertBundle, acm_backends
from moto.core.common_models import CloudFormationModel
from moto.elbv2.exceptions import InvalidTargetError, ListenerNotFoundError
from moto.elbv2.models import FakeTargetGroup, elbv2_backends
from moto.elbv2.responses import ELBV2Response, transform_certificates
from moto.iam import iam_backends
from moto.utilities.utils import get_partition

from ._base import BackendHandle, Properties, StandaloneModel, tag_dict

ELBV2Response.RESPONSE_KEY_PATH_TO_TRANSFORMER["DescribeListenersOutput.Listeners.Listener.Certificates"] = (
    lambda arns: transform_certificates(arns[:1])  # the default certificate comes first
)

SANDBOX_CERTIFICATE_DOMAIN = "sandbox.dualalb.local"
"""Domain of the stand-in certificate the sandbox issues for a certificate ARN it does not hold."""


def ensure_certificates(certificates: list[dict[str, str]], account_id: str, region_name: str) -> list[str]:
    """Make every certificate a listener names (``[{CertificateArn}]``) exist in the sandbox's ACM;
    their ARNs.

    A real account holds the user's certificates; the sandbox cannot. For an ARN that neither
    ACM nor IAM knows, it issues a self-signed stand-in under that ARN, so HTTPS listeners
    deploy and ``describe_listeners`` reports the template's ARN.
    """
    acm = acm_backends[account_id][region_name]
    iam = iam_backends[account_id][get_partition(region_name)]
    certificate_arns = [item["CertificateArn"] for item in certificates]
    for arn in certificate_arns:
        if arn in acm._certificates or iam.get_certificate_by_arn(arn) is not None:
            continue
        bundle = CertBundle.generate_cert(
            SANDBOX_CERTIFICATE_DOMAIN, account_id=account_id, region=region_name
        )
        bundle.arn = arn
        acm._certificates[arn] = bundle
    return certificate_arns


class Elbv2Handle(BackendHandle):
    """A handle on an ELBv2 object; the physical id is its ARN.

    ``attributes_property`` names the template's ``[{Key, Value}]`` attributes, which the backend
    method named ``modify_attributes`` sets (default: none).
    """

    backends = elbv2_backends
    id_attribute = "resource.arn"
    attributes_property: ClassVar[str] = ""
    modify_attributes: ClassVar[str] = ""

    @classmethod
    def with_attributes(
        cls, resource: Any, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        """A handle on ``resource`` with the template's attributes set."""
        handle = cls(resource, account_id, region_name)
        handle.apply_attributes(properties)
        return handle

    def apply_attributes(self, properties: Properties) -> None:
        attributes = _attribute_dict(properties.get(self.attributes_property, []))
        if attributes:
            getattr(self.backend, self.modify_attributes)(self.resource.arn, attributes)


def _attribute_dict(items: list[dict[str, str]]) -> dict[str, str]:
    """ELBv2 ``[{Key, Value}]`` attributes as a plain mapping."""
    return {item["Key"]: item["Value"] for item in items}


def _replace_tags(backend: Any, arn: str, tags: list[dict[str, str]] | None) -> None:
    current = backend.describe_tags([arn])[arn]
    stale = [key for key in current if key not in tag_dict(tags)]
    if stale:
        backend.remove_tags([arn], stale)
    if tags:
        backend.add_tags([arn], tags)


def _name_as_network_load_balancer(backend: Any, balancer: Any, tags: list[dict[str, str]] | None) -> None:
    """moto names every load balancer as an ALB does; give an NLB the ARN (``loadbalancer/net/``)
    and DNS name (``<name>-<id>.elb.<region>.amazonaws.com``) AWS gives it. CloudWatch's
    ``LoadBalancer`` dimension and ``LoadBalancerFullName`` are read from the ARN."""
    del backend.load_balancers[balancer.arn]
    balancer.arn = balancer.arn.replace(":loadbalancer/app/", ":loadbalancer/net/", 1)
    balancer_id = balancer.arn.rsplit("/", 1)[1]
    balancer.dns_name = f"{balancer.name}-{balancer_id}.elb.{backend.region_name}.amazonaws.com"
    backend.load_balancers[balancer.arn] = balancer
    if tags:
        backend.add_tags([balancer.arn], tags)


class LoadBalancer(Elbv2Handle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::LoadBalancer`` with type, scheme, attributes and tags."""

    cfn_type = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    attributes_property = "LoadBalancerAttributes"
    modify_attributes = "modify_load_balancer_attributes"
    name_property = "Name"
    cfn_attributes = {
        "CanonicalHostedZoneID": attrgetter("resource.canonical_hosted_zone_id"),
        "DNSName": attrgetter("resource.dns_name"),
        "LoadBalancerArn": attrgetter("resource.arn"),
        "LoadBalancerFullName": lambda handle: handle.resource.arn.split(":loadbalancer/")[1],  # app/name/id
        "LoadBalancerName": attrgetter("resource.name"),
        "SecurityGroups": attrgetter("resource.security_groups"),
    }

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        backend = elbv2_backends[account_id][region_name]
        network = properties.get("Type") == "network"
        balancer = backend.create_load_balancer(
            resource_name,
            properties.get("SecurityGroups", []),
            properties.get("Subnets", []),
            subnet_mappings=properties.get("SubnetMappings"),
            scheme=properties.get("Scheme", "internet-facing"),
            loadbalancer_type=properties.get("Type", "application"),
            ip_address_type=properties.get("IpAddressType", "ipv4"),
            tags=None if network else properties.get("Tags"),
        )
        if network:
            _name_as_network_load_balancer(backend, balancer, properties.get("Tags"))
        return cls.with_attributes(balancer, properties, account_id, region_name)

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        balancer = original.resource
        return cls.renamed(balancer.name, resource_name, properties) or balancer.scheme != properties.get(
            "Scheme", "internet-facing"
        )

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        if properties.get("SecurityGroups"):
            original.backend.set_security_groups(original.resource.arn, properties["SecurityGroups"])
        _replace_tags(original.backend, original.resource.arn, properties.get("Tags"))
        original.apply_attributes(properties)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_load_balancer(self.resource.arn)


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

TARGET_GROUP_REPLACED_BY = ("Port", "Protocol", "TargetType", "VpcId")
"""Target-group properties whose change replaces the group."""


class TargetGroup(Elbv2Handle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::TargetGroup`` with health check, attributes and tags."""

    cfn_type = "AWS::ElasticLoadBalancingV2::TargetGroup"
    attributes_property = "TargetGroupAttributes"
    modify_attributes = "modify_target_group_attributes"
    name_property = "Name"
    cfn_attributes = {
        "LoadBalancerArns": attrgetter("resource.load_balancer_arns"),
        "TargetGroupArn": attrgetter("resource.arn"),
        "TargetGroupFullName": lambda handle: handle.resource.arn.split(":", 5)[5],  # targetgroup/name/id
        "TargetGroupName": attrgetter("resource.name"),
    }

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        arguments = {
            keyword: properties[name]
            for name, keyword in TARGET_GROUP_ARGUMENTS.items()
            if name in properties
        }
        if "HealthCheckEnabled" in properties:
            arguments["healthcheck_enabled"] = str(properties["HealthCheckEnabled"]).lower()
        group = elbv2_backends[account_id][region_name].create_target_group(name=resource_name, **arguments)
        return cls.with_attributes(group, properties, account_id, region_name)

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        group = original.resource
        return cls.renamed(group.name, resource_name, properties) or any(
            name in properties and str(properties[name]) != str(getattr(group, xform_name(name)))
            for name in TARGET_GROUP_REPLACED_BY
        )

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        original.backend.modify_target_group(
            original.resource.arn,
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
        _replace_tags(original.backend, original.resource.arn, properties.get("Tags"))
        original.apply_attributes(properties)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        self.backend.delete_target_group(self.resource.arn)


class Listener(Elbv2Handle, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::Listener`` with port, protocol, certificates, default actions.

    Certificates the sandbox does not hold are issued as stand-ins (``ensure_certificates``).
    """

    cfn_type = "AWS::ElasticLoadBalancingV2::Listener"
    cfn_attributes = {"ListenerArn": attrgetter("resource.arn")}

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        backend = elbv2_backends[account_id][region_name]
        certificates = properties.get("Certificates", [])
        ensure_certificates(certificates, account_id, region_name)
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
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        return properties["LoadBalancerArn"] != original.resource.load_balancer_arn

    @classmethod
    def update_in_place(
        cls, original: Self, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Self:
        certificates = properties.get("Certificates", [])
        ensure_certificates(certificates, account_id, region_name)
        original.backend.modify_listener(
            original.resource.arn,
            properties.get("Port"),
            properties.get("Protocol"),
            properties.get("SslPolicy"),
            certificates,
            original.backend.convert_and_validate_properties(properties),
        )
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        """Deleting a load balancer deletes its listeners; a listener already gone is deleted."""
        try:
            self.backend.delete_listener(self.resource.arn)
        except ListenerNotFoundError:
            pass


class ListenerCertificate(StandaloneModel, CloudFormationModel):
    """``AWS::ElasticLoadBalancingV2::ListenerCertificate``: extra certificates on a listener."""

    replaced_side_by_side = False

    cfn_type = "AWS::ElasticLoadBalancingV2::ListenerCertificate"

    def __init__(self, listener_arn: str, certificate_arns: list[str]) -> None:
        self.listener_arn = listener_arn
        self.certificate_arns = certificate_arns

    @property
    def physical_resource_id(self) -> str:
        return f"{self.listener_arn}|{'|'.join(self.certificate_arns)}"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        certificate_arns = ensure_certificates(properties["Certificates"], account_id, region_name)
        elbv2_backends[account_id][region_name].add_listener_certificates(
            properties["ListenerArn"], properties["Certificates"]
        )
        return cls(properties["ListenerArn"], certificate_arns)

    def delete(self, account_id: str, region_name: str) -> None:
        """Deleting a listener removes its certificates; a listener already gone is no error."""
        try:
            elbv2_backends[account_id][region_name].remove_listener_certificates(
                self.listener_arn, [{"CertificateArn": arn} for arn in self.certificate_arns]
            )
        except ListenerNotFoundError:
            pass


# Targets are registered by (Id, Port), as ELBv2 does: moto keys them by Id alone, so two tasks on
# one IP (the live sandbox's tasks all listen on 127.0.0.1, each on its own port) would be one
# target, and deregistering either would remove both. The patched methods key by "Id:Port".
_moto_register = getattr(FakeTargetGroup.register, "__wrapped__", FakeTargetGroup.register)
_moto_health_for = getattr(FakeTargetGroup.health_for, "__wrapped__", FakeTargetGroup.health_for)


def _target_key(group: FakeTargetGroup, target: dict[str, Any]) -> str:
    return f"{target['Id']}:{target.get('Port') or group.port}"


def _register(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    for target in targets:
        _moto_register(self, [target])  # moto's checks (an EC2 instance must be running)
        key = _target_key(self, target)
        self.targets[key] = self.targets.pop(target["Id"])
        self.deregistered_targets.pop(key, None)


def _deregister(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
    for target in targets:
        key = _target_key(self, target)
        entry = self.targets.pop(key, None)
        if entry is None:
            raise InvalidTargetError()
        self.deregistered_targets[key] = entry


def _deregister_terminated_instances(self: FakeTargetGroup, instance_ids: list[str]) -> None:
    for key in [key for key, entry in self.targets.items() if entry["Id"] in instance_ids]:
        self.terminated_targets[key] = self.targets.pop(key)


def _health_for(self: FakeTargetGroup, target: dict[str, Any], ec2_backend: Any) -> Any:
    """moto's health_for on a view of this group holding only ``target``'s (Id, Port) entries."""
    key = _target_key(self, target)

    def only_this(entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {entry["Id"]: entry for found, entry in entries.items() if found == key}

    view = SimpleNamespace(
        port=self.port,
        health_check_port=self.health_check_port,
        targets=only_this(self.targets),
        deregistered_targets=only_this(self.deregistered_targets),
        terminated_targets=only_this(self.terminated_targets),
    )
    return _moto_health_for(view, target, ec2_backend)


for _name, _method in (
    ("register", _register),
    ("deregister", _deregister),
    ("deregister_terminated_instances", _deregister_terminated_instances),
    ("health_for", _health_for),
):
    _method.__wrapped__ = getattr(FakeTargetGroup, _name)  # type: ignore[attr-defined]
    setattr(FakeTargetGroup, _name, _method)
