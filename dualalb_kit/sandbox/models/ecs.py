"""ECS: clusters with capacity providers, full task definitions, services that keep every property.

moto's own models register a task definition with only its containers and memory, create
every service as launch type EC2 with nothing but a desired count, and have no model for
``AWS::ECS::ClusterCapacityProviderAssociations``. These keep what the template says.

A deleted service is ``INACTIVE``: ``DescribeServices`` still shows it and, as in ECS,
``ListServices`` no longer does (moto's listed it; importing this module installs that).
``ListTasks`` filters by ``serviceName`` (moto ignores it); the live data plane records the tasks
it runs with :func:`start_service_task` and :func:`report_service_task`.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Self

from botocore import xform_name
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ecs import models as ecs_models
from moto.ecs.models import ecs_backends

from ._base import GapFillModel, KeyedModel, Properties, camel_keys


class Cluster(GapFillModel, ecs_models.Cluster, CloudFormationModel):
    """``AWS::ECS::Cluster`` with its settings, configuration, capacity providers and tags."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> ecs_models.Cluster:
        return ecs_backends[account_id][region_name].create_cluster(
            cluster_name=resource_name,
            tags=camel_keys(properties.get("Tags")),
            cluster_settings=camel_keys(properties.get("ClusterSettings")),
            configuration=camel_keys(properties.get("Configuration")),
            capacity_providers=properties.get("CapacityProviders"),
            default_capacity_provider_strategy=camel_keys(properties.get("DefaultCapacityProviderStrategy")),
        )

    @classmethod
    def replaced_on_update(
        cls, original: ecs_models.Cluster, resource_name: str, properties: Properties
    ) -> bool:
        return cls.renamed(original.name, resource_name, properties)

    @classmethod
    def update_in_place(
        cls,
        original: ecs_models.Cluster,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> ecs_models.Cluster:
        ecs_backends[account_id][region_name].update_cluster(
            original.name,
            cluster_settings=camel_keys(properties.get("ClusterSettings")),
            configuration=camel_keys(properties.get("Configuration")),
            service_connect_defaults=None,
        )
        original.tags = camel_keys(properties.get("Tags"))
        return original

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ecs_backends[account_id][region_name].delete_cluster(resource_name)


class ClusterCapacityProviderAssociations(KeyedModel, CloudFormationModel):
    """``AWS::ECS::ClusterCapacityProviderAssociations``: a handle on the cluster's providers.

    The state lives on moto's cluster (``put_cluster_capacity_providers``, which an update puts
    again); the key (physical id) is the cluster name, as in CloudFormation.
    """

    cfn_type = "AWS::ECS::ClusterCapacityProviderAssociations"

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        cluster_name = properties["Cluster"]
        ecs_backends[account_id][region_name].put_cluster_capacity_providers(
            cluster_name,
            capacity_providers=properties.get("CapacityProviders", []),
            default_capacity_provider_strategy=camel_keys(
                properties.get("DefaultCapacityProviderStrategy", [])
            ),
        )
        return cls(cluster_name)

    @classmethod
    def replaced_on_update(cls, original: Self, resource_name: str, properties: Properties) -> bool:
        return False

    def delete(self, account_id: str, region_name: str) -> None:
        ecs_backends[account_id][region_name].put_cluster_capacity_providers(
            self.key, capacity_providers=[], default_capacity_provider_strategy=[]
        )


TASK_DEFINITION_PROPERTIES = (
    "Volumes",
    "NetworkMode",
    "Tags",
    "PlacementConstraints",
    "RequiresCompatibilities",
    "Cpu",
    "Memory",
    "TaskRoleArn",
    "ExecutionRoleArn",
    "ProxyConfiguration",
    "InferenceAccelerators",
    "RuntimePlatform",
    "IpcMode",
    "PidMode",
    "EphemeralStorage",
)
"""CloudFormation properties that map one to one onto ``register_task_definition`` arguments."""


class TaskDefinition(GapFillModel, ecs_models.TaskDefinition, CloudFormationModel):
    """``AWS::ECS::TaskDefinition`` with cpu, memory, network mode, roles, compatibilities, tags.

    A task definition is immutable: an update deregisters it and registers the next revision.
    """

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> ecs_models.TaskDefinition:
        arguments = {
            xform_name(name): camel_keys(properties[name])
            for name in TASK_DEFINITION_PROPERTIES
            if name in properties
        }
        return ecs_backends[account_id][region_name].register_task_definition(
            family=properties.get("Family", resource_name),
            container_definitions=camel_keys(properties.get("ContainerDefinitions", [])),
            **arguments,
        )

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        ecs_backends[account_id][region_name].deregister_task_definition(resource_name)


SERVICE_EXTRA_PROPERTIES = (
    "CapacityProviderStrategy",
    "DeploymentConfiguration",
    "EnableExecuteCommand",
    "EnableECSManagedTags",
    "HealthCheckGracePeriodSeconds",
    "PlacementConstraints",
    "PlacementStrategies",
    "ServiceConnectConfiguration",
)
"""Service properties moto's ``create_service`` does not take; they are set on moto's service."""


class Service(GapFillModel, ecs_models.Service, CloudFormationModel):
    """``AWS::ECS::Service`` keeping launch type or capacity strategy, deployment configuration,
    execute-command, load balancers, network configuration, desired count and tags."""

    @classmethod
    def create(
        cls, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> ecs_models.Service:
        service = ecs_backends[account_id][region_name].create_service(
            properties.get("Cluster", "default"),
            resource_name,
            properties.get("DesiredCount", 1),
            task_definition_str=properties.get("TaskDefinition"),
            load_balancers=camel_keys(properties.get("LoadBalancers", [])),
            scheduling_strategy=properties.get("SchedulingStrategy"),
            tags=camel_keys(properties.get("Tags")),
            deployment_controller=camel_keys(properties.get("DeploymentController")),
            launch_type=properties.get(
                "LaunchType", "FARGATE" if "CapacityProviderStrategy" not in properties else None
            ),
            service_registries=camel_keys(properties.get("ServiceRegistries")),
            platform_version=properties.get("PlatformVersion"),
            propagate_tags=properties.get("PropagateTags", "NONE"),
            network_configuration=camel_keys(properties.get("NetworkConfiguration")),
            role_arn=properties.get("Role"),
        )
        cls._apply_extra_properties(service, properties)
        return service

    @classmethod
    def _apply_extra_properties(cls, service: ecs_models.Service, properties: Properties) -> None:
        for name in SERVICE_EXTRA_PROPERTIES:
            setattr(service, xform_name(name), camel_keys(properties.get(name)))
        if properties.get("CapacityProviderStrategy"):
            service.launch_type = None
        for deployment in service.deployments:
            deployment["launchType"] = service.launch_type
            deployment["capacityProviderStrategy"] = service.capacity_provider_strategy
            deployment["networkConfiguration"] = service.network_configuration or None

    @classmethod
    def replaced_on_update(
        cls, original: ecs_models.Service, resource_name: str, properties: Properties
    ) -> bool:
        return properties.get("Cluster", "default") not in (original.cluster_name, original.cluster_arn)

    @classmethod
    def update_in_place(
        cls,
        original: ecs_models.Service,
        resource_name: str,
        properties: Properties,
        account_id: str,
        region_name: str,
    ) -> ecs_models.Service:
        service = ecs_backends[account_id][region_name].update_service(
            {
                "cluster": properties.get("Cluster", "default"),
                "service": original.name,
                "task_definition": properties.get("TaskDefinition"),
                "desired_count": properties.get("DesiredCount", 1),
                "load_balancers": camel_keys(properties.get("LoadBalancers", [])),
                "network_configuration": camel_keys(properties.get("NetworkConfiguration")),
                "platform_version": properties.get("PlatformVersion"),
            }
        )
        service.tags = camel_keys(properties.get("Tags")) or []
        if "LaunchType" in properties:
            service.launch_type = properties["LaunchType"]
        cls._apply_extra_properties(service, properties)
        return service

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        """``resource_name`` is the service ARN; the template's properties are not resolved here."""
        backend = ecs_backends[account_id][region_name]
        for service in list(backend.services.values()):
            if service.arn == resource_name:
                backend.delete_service(service.cluster_name, service.name, force=True)


_moto_list_services = ecs_models.EC2ContainerServiceBackend.list_services


def list_services(
    self: ecs_models.EC2ContainerServiceBackend,
    cluster_str: str,
    scheduling_strategy: str | None = None,
    launch_type: str | None = None,
) -> list[str]:
    """moto's ``list_services`` without the deleted (``INACTIVE``) services."""
    deleted = {service.arn for service in self.services.values() if service.status == "INACTIVE"}
    listed = _moto_list_services(self, cluster_str, scheduling_strategy, launch_type=launch_type)
    return [arn for arn in listed if arn not in deleted]


ecs_models.EC2ContainerServiceBackend.list_services = list_services


# -- tasks ------------------------------------------------------------------------------------------
# moto has no scheduler: its services never start a task, and a task it runs is RUNNING at once and
# then steps towards STOPPED on each DescribeTasks. The live data plane runs the services' tasks and
# records them here, so ListTasks (also by serviceName) and DescribeTasks show what runs and why
# the rest stopped.

TASKS_LOCK = threading.Lock()
"""Held while the plane's thread adds a task to moto's ECS and while ListTasks reads them."""


def start_service_task(
    account_id: str, region_name: str, service_arn: str, capacity_provider: str | None
) -> ecs_models.Task:
    """A PROVISIONING task of the service ``service_arn``, as ECS's scheduler starts one: group
    ``service:<name>``, started by the service's deployment, on ``capacity_provider`` (else the
    service's launch type), with an ENI in its first subnet (awsvpc)."""
    backend = ecs_backends[account_id][region_name]
    service = next(s for s in backend.services.values() if s.arn == service_arn)
    deployment = (service.deployments or [{}])[0]
    with TASKS_LOCK:  # the plane's thread adds to moto's tasks while request threads list them
        (task,) = backend.run_task(
            service.cluster_name,
            service.task_definition,
            1,
            None,
            deployment.get("id", f"ecs-svc/{service.name}"),
            None,
            None if capacity_provider else (service.launch_type or "FARGATE"),
            service.network_configuration or None,
            f"service:{service.name}",
            service.platform_version,
            [{"capacityProvider": capacity_provider}] if capacity_provider else None,
        )
    definition = backend.describe_task_definition(service.task_definition)
    task._transitions = []  # type: ignore[attr-defined]  # its status is only what is reported
    task.last_status = "PROVISIONING"
    task.launch_type = "FARGATE" if capacity_provider in (None, "FARGATE", "FARGATE_SPOT") else "EC2"
    task.cpu, task.memory = definition.cpu, definition.memory
    task.created_at = datetime.now(UTC)
    for container in task.containers:
        container.task_arn, container.exitCode = task.task_arn, None
        container.container_arn = task.task_arn.replace(":task/", ":container/") + f"/{uuid.uuid4()}"
    return task


def report_service_task(
    account_id: str,
    region_name: str,
    task_arn: str,
    *,
    last_status: str,
    desired_status: str,
    stopped_reason: str = "",
    stop_code: str = "",
    started_at: float | None = None,
    stopping_at: float | None = None,
    stopped_at: float | None = None,
    exit_code: int | None = None,
    network_bindings: list[dict[str, Any]] | None = None,
) -> bool:
    """Record a task's state (times in seconds since the epoch), as the ECS agent reports it; a
    STOPPED task's network interface is deleted, as Fargate releases it. False when ECS no longer
    holds the task (its cluster was deleted)."""
    backend = ecs_backends[account_id][region_name]
    task = next((t for tasks in backend.tasks.values() for arn, t in tasks.items() if arn == task_arn), None)
    if task is None:
        return False
    task.last_status, task.desired_status = last_status, desired_status
    task.stopped_reason, task.stop_code = stopped_reason, stop_code or None
    for name, value in (("started_at", started_at), ("stopping_at", stopping_at), ("stopped_at", stopped_at)):
        setattr(task, name, None if value is None else datetime.fromtimestamp(value, UTC))
    for container in task.containers:
        container.last_status = "STOPPED" if last_status == "STOPPED" else last_status
        container.exitCode = exit_code
        container.network_bindings = network_bindings or []
    if last_status == "STOPPED":
        _release_network_interface(account_id, region_name, task)
    return True


def _release_network_interface(account_id: str, region_name: str, task: ecs_models.Task) -> None:
    ec2 = ec2_backends[account_id][region_name]
    for attachment in task.attachments:
        if attachment.get("status") == "DELETED":
            continue
        for detail in attachment["details"]:
            if detail["name"] == "networkInterfaceId" and detail["value"] in ec2.enis:
                ec2.delete_network_interface(detail["value"])
        attachment["status"] = "DELETED"


_moto_list_tasks = ecs_models.EC2ContainerServiceBackend.list_tasks


def list_tasks(
    self: ecs_models.EC2ContainerServiceBackend,
    cluster_str: str | None = None,
    container_instance: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    service_name: str | None = None,
    desiredStatus: str | None = None,  # noqa: N803  (moto's name)
) -> list[ecs_models.Task]:
    """moto's ``list_tasks``, filtered by ``service_name`` (moto ignores it): the tasks of group
    ``service:<name>``."""
    with TASKS_LOCK:
        found = _moto_list_tasks(
            self, cluster_str, container_instance, family, started_by, None, desiredStatus
        )
    if service_name:
        name = service_name.rsplit("/", 1)[-1]
        found = [task for task in found if task.group == f"service:{name}"]
    return found


ecs_models.EC2ContainerServiceBackend.list_tasks = list_tasks


_moto_requirements = ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements


def _task_resource_requirements(task_definition: ecs_models.TaskDefinition) -> dict[str, Any]:
    """moto's sum of the containers' CPU and memory, where a container without its own memory (a
    Fargate task's usually has none: the task's counts) adds none; moto's failed on it."""
    containers = [
        {**definition, "memory": definition.get("memory") or definition.get("memoryReservation") or 0}
        for definition in task_definition.container_definitions
    ]
    return _moto_requirements(SimpleNamespace(container_definitions=containers))


ecs_models.EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(
    _task_resource_requirements
)
