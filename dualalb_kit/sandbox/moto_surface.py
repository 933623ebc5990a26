"""Which moto the sandbox supports, and which private parts of moto its gap-fills rely on.

The gap-fills (the rest of ``dualalb_kit/sandbox/``) replace, wrap, subclass and call moto's
internals, which change between moto releases without notice. So the sandbox starts only on a
moto in :data:`SUPPORTED_MOTO` (:func:`check_moto_version`, the first thing ``Sandbox.start``
does), and :data:`SURFACE` records what the gap-fills rely on as that moto has it.
:func:`surface_differences` names every entry an installed moto no longer matches
(``tests/test_moto_surface.py`` checks each one). To move to another moto: install it, adapt the
gap-fills to what :func:`surface_differences` names, then update ``SURFACE``, ``SUPPORTED_MOTO``
and the pin in pyproject.toml.

Instance attributes (``Stack.resource_map``, ``ResourceMap._parsed_resources``, ...) exist only
on moto's objects, not on its classes, so the table cannot hold them; the sandbox's behaviour
tests exercise them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from typing import NamedTuple

from ..errors import MissingExtraError, UnsupportedMotoError

SUPPORTED_MOTO = ("5.2.5",)
"""The moto versions the gap-fills were tested with (exact versions)."""

MOTO_REQUIREMENT = f"moto[server,cloudformation]=={SUPPORTED_MOTO[-1]}"
"""What pip installs for the sandbox (pyproject.toml's ``[sandbox]`` extra pins the same)."""


def check_moto_version() -> str:
    """The installed moto's version, read from its metadata without importing moto.

    Raises :class:`~dualalb_kit.errors.MissingExtraError` without moto, and
    :class:`~dualalb_kit.errors.UnsupportedMotoError` (one line saying how to fix it) for a
    version not in :data:`SUPPORTED_MOTO`.
    """
    try:
        installed = metadata.version("moto")
    except metadata.PackageNotFoundError:
        raise MissingExtraError("the sandbox", "sandbox", "moto") from None
    if installed not in SUPPORTED_MOTO:
        raise UnsupportedMotoError(
            f"the sandbox supports moto {' or '.join(SUPPORTED_MOTO)}, but moto {installed} is "
            f"installed: run `make setup` in a checkout, or pip install '{MOTO_REQUIREMENT}'"
        )
    return installed


EXISTS = "exists"
"""The shape of a name whose presence is all the gap-fills rely on (a module or class attribute,
a property, a caught exception, a class the gap-fills only subclass)."""

MISSING = "missing"
"""The shape of a name that is not there; expected of what the gap-fills add to moto's classes
(a moto that gains it would have its own shadowed)."""


class MotoName(NamedTuple):
    """A dotted name in moto and its shape: a callable's signature (a class's ``__init__``) as
    ``str(inspect.signature(...))`` with the annotations left out, :data:`EXISTS` or :data:`MISSING`.

    Annotations are left out because they do not change how a call binds and read differently
    across Python versions. A name the gap-fills replace has the shape of moto's original.
    """

    name: str
    shape: str


def shape_of(name: str) -> str:
    """The shape of the dotted ``name`` in the moto this process imports (see :class:`MotoName`).

    Once ``install_gap_fills()`` ran in a process, moto's attributes there are the kit's
    replacements: :func:`original_shapes` asks a fresh process instead.
    """
    parts = name.split(".")
    try:
        found = importlib.import_module(parts[0])
        for index, part in enumerate(parts[1:], start=2):
            if hasattr(found, part):
                found = getattr(found, part)
            elif inspect.ismodule(found):
                found = importlib.import_module(".".join(parts[:index]))
            else:
                return MISSING
    except ImportError:
        return MISSING
    target = found.__init__ if inspect.isclass(found) else found
    if not callable(target):
        return EXISTS
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin that does not describe its parameters
        return EXISTS
    parameters = [
        parameter.replace(annotation=parameter.empty) for parameter in signature.parameters.values()
    ]
    return str(signature.replace(parameters=parameters, return_annotation=signature.empty))


_SHAPES_SCRIPT = (
    "import json, sys\n"
    "from dualalb_kit.sandbox.moto_surface import shape_of\n"
    "json.dump({name: shape_of(name) for name in json.load(sys.stdin)}, sys.stdout)\n"
)


def original_shapes(names: Iterable[str]) -> dict[str, str]:
    """Name -> :func:`shape_of` for each of ``names``, found in a fresh Python process, where moto
    is as installed (no gap-fills); takes a few seconds (moto's imports)."""
    found = subprocess.run(
        [sys.executable, "-c", _SHAPES_SCRIPT],
        input=json.dumps(list(names)),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_EC2_METADATA_DISABLED": "true"},
    )
    return json.loads(found.stdout)


def difference(expected: MotoName, found: str) -> str | None:
    """One line naming ``expected.name`` when the ``found`` shape does not match it, else ``None``."""
    if found == expected.shape or (expected.shape == EXISTS and found != MISSING):
        return None
    return f"{expected.name}: expected {expected.shape}, found {found}"


def surface_differences(surface: Iterable[MotoName] | None = None) -> list[str]:
    """One line per entry of ``surface`` (default: :data:`SURFACE`) that the installed moto does
    not match, naming it with the expected and the found shape; empty when all match."""
    entries = tuple(SURFACE if surface is None else surface)
    found = original_shapes(entry.name for entry in entries)
    return [line for entry in entries if (line := difference(entry, found[entry.name])) is not None]


SURFACE: tuple[MotoName, ...] = (
    # server.py: constructed by Sandbox.start (ip_address, port, verbose); the recorded signature is
    # moto's, whose default address is 0.0.0.0: Sandbox always passes ip_address="127.0.0.1"
    MotoName("moto.server.ThreadedMotoServer", "(self, ip_address='0.0.0.0', port=5000, verbose=True)"),
    # server.py: called by Sandbox.start
    MotoName("moto.server.ThreadedMotoServer.start", "(self)"),
    # server.py: called by Sandbox.stop
    MotoName("moto.server.ThreadedMotoServer.stop", "(self)"),
    # cloudformation.py: wrapped to record CREATE resource events
    MotoName(
        "moto.cloudformation.parsing.parse_and_create_resource",
        "(logical_id, resource_json, resources_map, account_id, region_name)",
    ),
    # cloudformation.py: wrapped to record UPDATE events; updates.py: called to update dependents
    MotoName(
        "moto.cloudformation.parsing.parse_and_update_resource",
        "(logical_id, resource_json, resources_map, account_id, region_name)",
    ),
    # cloudformation.py: wrapped to record DELETE events and defer removals; called in cleanup and rollback
    MotoName(
        "moto.cloudformation.parsing.ResourceMap._delete_resource",
        "(self, parsed_resource, resource_json)",
    ),
    # cloudformation.py: called to delete a stack's resources (delete_stack, CREATE rollback)
    MotoName("moto.cloudformation.parsing.ResourceMap.delete", "(self)"),
    # cloudformation.py: called to roll an update back to the previous template
    MotoName("moto.cloudformation.parsing.ResourceMap.update", "(self, template, parameters=None)"),
    # cloudformation.py: read (a property) by the replacement Stack.stack_resources
    MotoName("moto.cloudformation.parsing.ResourceMap.resources", EXISTS),
    # cloudformation.py: called to name a failed resource's declared name
    MotoName("moto.cloudformation.parsing.resource_name_property_from_type", "(resource_type)"),
    # updates.py: called to resolve a resource's properties
    MotoName("moto.cloudformation.parsing.clean_json", "(resource_json, resources_map)"),
    # models/_base.py: its cache cleared so that moto maps the gap-fill models
    MotoName("moto.cloudformation.parsing.get_model_list", "()"),
    # models/_base.py: called by refresh_model_map
    MotoName("moto.cloudformation.parsing.get_model_list.cache_clear", EXISTS),
    # models/_base.py: its cache cleared so that moto maps the gap-fill models
    MotoName("moto.cloudformation.parsing.get_model_map", "()"),
    # models/_base.py: called by refresh_model_map
    MotoName("moto.cloudformation.parsing.get_model_map.cache_clear", EXISTS),
    # models/_base.py: its cache cleared so that moto maps the gap-fill models
    MotoName("moto.cloudformation.parsing.get_name_type_map", "()"),
    # models/_base.py: called by refresh_model_map
    MotoName("moto.cloudformation.parsing.get_name_type_map.cache_clear", EXISTS),
    # cloudformation.py: replaced (outputs, resource events, rollback)
    MotoName(
        "moto.cloudformation.models.CloudFormationBackend.execute_change_set",
        "(self, change_set_name, stack_name=None)",
    ),
    # cloudformation.py: replaced (a name is looked up within its stack)
    MotoName(
        "moto.cloudformation.models.CloudFormationBackend.describe_change_set",
        "(self, change_set_name)",
    ),
    # cloudformation.py: wrapped (previous SSM inputs kept, one stack per name)
    MotoName(
        "moto.cloudformation.models.CloudFormationBackend.create_change_set",
        "(self, stack_name, change_set_name, template, parameters, description, change_set_type, "
        "notification_arns=None, tags=None, role_arn=None)",
    ),
    # cloudformation.py: replaced (looked up within its stack; a missing one succeeds)
    MotoName("moto.cloudformation.models.CloudFormationBackend.delete_change_set", "(self, change_set_name)"),
    # cloudformation.py: replaced (resource events, DELETE_FAILED)
    MotoName("moto.cloudformation.models.CloudFormationBackend.delete_stack", "(self, name_or_stack_id)"),
    # cloudformation.py: called by the create_change_set wrapper
    MotoName("moto.cloudformation.models.CloudFormationBackend.get_stack", "(self, name_or_stack_id)"),
    # cloudformation.py: called when a stack's exports are refreshed
    MotoName("moto.cloudformation.models.CloudFormationBackend._validate_export_uniqueness", "(self, stack)"),
    # cloudformation.py: wrapped to record resource events (CreateStack)
    MotoName("moto.cloudformation.models.Stack.create_resources", "(self)"),
    # cloudformation.py: wrapped to record resource events (UpdateStack)
    MotoName(
        "moto.cloudformation.models.Stack.update",
        "(self, template, role_arn=None, parameters=None, tags=None)",
    ),
    # cloudformation.py: replaced (a property: the resources the stack holds)
    MotoName("moto.cloudformation.models.Stack.stack_resources", EXISTS),
    # cloudformation.py: read (a property) for previous SSM inputs
    MotoName("moto.cloudformation.models.Stack.stack_parameters", EXISTS),
    # cloudformation.py: read (a property) when exports are refreshed
    MotoName("moto.cloudformation.models.Stack.exports", EXISTS),
    # cloudformation.py: called to record a stack status event
    MotoName(
        "moto.cloudformation.models.Stack._add_stack_event",
        "(self, resource_status, resource_status_reason=None, resource_properties=None)",
    ),
    # cloudformation.py: called when a stack's outputs are refreshed
    MotoName("moto.cloudformation.models.Stack._create_output_map", "(self)"),
    # cloudformation.py: called by the replacement execute_change_set
    MotoName("moto.cloudformation.models.ChangeSet.apply", "(self)"),
    # cloudformation.py: constructed for every resource event
    MotoName(
        "moto.cloudformation.models.Event",
        "(self, stack_id, stack_name, logical_resource_id, physical_resource_id, resource_type, "
        "resource_status, resource_status_reason, resource_properties)",
    ),
    # cloudformation.py: replaced (passes StackName on)
    MotoName("moto.cloudformation.responses.CloudFormationResponse.describe_change_set", "(self)"),
    # cloudformation.py: replaced (passes StackName on)
    MotoName("moto.cloudformation.responses.CloudFormationResponse.delete_change_set", "(self)"),
    # cloudformation.py: read (a property) by the replaced responses
    MotoName("moto.cloudformation.responses.CloudFormationResponse.cloudformation_backend", EXISTS),
    # cloudformation.py: constructed (a second stack of one name)
    MotoName("moto.cloudformation.exceptions.AlreadyExistsException", "(self, *args, **kwargs)"),
    # cloudformation.py: subclassed (ChangeSetNotFound passes it a message)
    MotoName("moto.cloudformation.exceptions.CloudFormationError", "(self, *args, **kwargs)"),
    # models/_base.py: constructed (an unknown Fn::GetAtt attribute)
    MotoName(
        "moto.cloudformation.exceptions.UnformattedGetAttTemplateException",
        "(self, /, *args, **kwargs)",
    ),
    # cloudformation.py, cloudwatch.py: constructed (the replaced responses' results)
    MotoName("moto.core.responses.ActionResult", "(self, result)"),
    # cloudformation.py: constructed (DeleteChangeSet's result)
    MotoName("moto.core.responses.EmptyResult", "(self)"),
    # cloudformation.py: called by the replaced responses
    MotoName("moto.core.responses.BaseResponse._get_param", "(self, param_name, if_none=None)"),
    # cloudwatch.py: called by the replaced GetMetricData response
    MotoName("moto.core.responses.BaseResponse._get_params", "(self)"),
    # cloudwatch.py: called by the replacement parse_parameters
    MotoName("moto.core.responses.BaseResponse._get_action", "(self)"),
    # cloudwatch.py: read (a property) by the replacement parse_parameters
    MotoName("moto.core.responses.BaseResponse.boto3_service_name", EXISTS),
    # cloudwatch.py: called for every request but a PutMetricData in JSON
    MotoName("moto.core.responses.BaseResponse.parse_parameters", "(self, request)"),
    # cloudtrail.py: patched (gains lookup_events)
    MotoName("moto.cloudtrail.responses.CloudTrailResponse", EXISTS),
    # cloudtrail.py: added; a moto with its own would have it shadowed
    MotoName("moto.cloudtrail.responses.CloudTrailResponse.lookup_events", MISSING),
    # cloudwatch.py: replaced (the columnar store, the API's limits)
    MotoName("moto.cloudwatch.models.CloudWatchBackend.put_metric_data", "(self, namespace, metric_data)"),
    # cloudwatch.py: replaced (every page at once, for in-process callers)
    MotoName(
        "moto.cloudwatch.models.CloudWatchBackend.get_metric_data",
        "(self, queries, start_time, end_time, scan_by='TimestampAscending')",
    ),
    # cloudwatch.py: replaced (read from the columnar store)
    MotoName(
        "moto.cloudwatch.models.CloudWatchBackend.get_metric_statistics",
        "(self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit=None)",
    ),
    # cloudwatch.py: added; a moto with its own would have it shadowed
    MotoName("moto.cloudwatch.models.CloudWatchBackend.get_metric_data_page", MISSING),
    # cloudwatch.py: called by the replacement put_metric_data
    MotoName(
        "moto.cloudwatch.models.CloudWatchBackend._validate_parameters_put_metric_data",
        "(self, metric, query_num)",
    ),
    # cloudwatch.py: constructed (one per series, for ListMetrics)
    MotoName(
        "moto.cloudwatch.models.MetricDatum",
        "(self, namespace, name, value, dimensions, timestamp, unit=None)",
    ),
    # cloudwatch.py: constructed (a period of get_metric_statistics)
    MotoName(
        "moto.cloudwatch.models.MetricAggregatedDatum",
        "(self, namespace, name, min_stat, max_stat, sample_count, sum_stat, dimensions, timestamp, "
        "unit=None)",
    ),
    # cloudwatch.py: constructed (a period of get_metric_statistics)
    MotoName("moto.cloudwatch.models.Statistics", "(self, stats, dt, unit=None)"),
    # cloudwatch.py: replaced (pages, throttling)
    MotoName("moto.cloudwatch.responses.CloudWatchResponse.get_metric_data", "(self)"),
    # cloudwatch.py: replaced (a PutMetricData in JSON read with json.loads)
    MotoName("moto.cloudwatch.responses.CloudWatchResponse.parse_parameters", "(self, request)"),
    # cloudwatch.py: read (a property) by the replaced GetMetricData response
    MotoName("moto.cloudwatch.responses.CloudWatchResponse.cloudwatch_backend", EXISTS),
    # cloudwatch.py: constructed (the API's limits)
    MotoName("moto.cloudwatch.exceptions.InvalidParameterValue", "(self, *args, **kwargs)"),
    # cloudwatch.py: constructed (the API's limits)
    MotoName("moto.cloudwatch.exceptions.ValidationError", "(self, *args, **kwargs)"),
    # cloudwatch.py: subclassed (Throttling, constructed without arguments)
    MotoName("moto.core.exceptions.ServiceException", "(self, *args, **kwargs)"),
    # cloudwatch.py: read (a property) by the replacement parse_parameters
    MotoName("moto.core.request.Request.content_type", EXISTS),
    # cloudwatch.py: read (a property) by the replacement parse_parameters
    MotoName("moto.core.request.Request.data", EXISTS),
    # cloudwatch.py: called by the replacement parse_parameters
    MotoName("moto.core.request.determine_request_protocol", "(service_model, content_type=None)"),
    # cloudwatch.py: called by the replacement parse_parameters
    MotoName("moto.core.utils.get_service_model", "(service_name)"),
    # models/*.py: subclassed by every model (whose own __init__ does not call it)
    MotoName("moto.core.common_models.CloudFormationModel", "(self, /, *args, **kwargs)"),
    # models/*.py: overridden; moto's parsing calls it
    MotoName(
        "moto.core.common_models.CloudFormationModel.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: overridden (GapFillModel); moto's parsing calls it
    MotoName(
        "moto.core.common_models.CloudFormationModel.update_from_cloudformation_json",
        "(original_resource, new_resource_name, cloudformation_json, account_id, region_name)",
    ),
    # models/*.py: overridden; moto's parsing calls it
    MotoName(
        "moto.core.common_models.CloudFormationModel.delete_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name)",
    ),
    # models/_base.py: overridden (StandaloneModel)
    MotoName("moto.core.common_models.CloudFormationModel.cloudformation_type", "()"),
    # models/_base.py: overridden (StandaloneModel)
    MotoName("moto.core.common_models.CloudFormationModel.cloudformation_name_type", "()"),
    # models/_base.py, models/efs.py: overridden
    MotoName("moto.core.common_models.CloudFormationModel.has_cfn_attr", "(attr)"),
    # models/_base.py: overridden (StandaloneModel)
    MotoName("moto.core.common_models.CloudFormationModel.is_created", "(self)"),
    # models/_base.py: called by camel_keys
    MotoName("moto.core.utils.pascal_to_camelcase", "(argument)"),
    # models/_base.py: called by camel_keys
    MotoName("moto.core.utils.remap_nested_keys", "(root, key_transform)"),
    # models/elbv2.py, iam.py, route53.py, s3.py: called (backends by partition)
    MotoName("moto.utilities.utils.get_partition", "(region)"),
    # models/applicationautoscaling.py: read (the service's backends)
    MotoName("moto.applicationautoscaling.models.applicationautoscaling_backends", EXISTS),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.register_scalable_target",
        "(self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state)",
    ),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.deregister_scalable_target",
        "(self, namespace, r_id, dimension)",
    ),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.put_scheduled_action",
        "(self, service_namespace, schedule, timezone, scheduled_action_name, resource_id, "
        "scalable_dimension, start_time, end_time, scalable_target_action)",
    ),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.delete_scheduled_action",
        "(self, service_namespace, scheduled_action_name, resource_id, scalable_dimension)",
    ),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.put_scaling_policy",
        "(self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type)",
    ),
    # models/applicationautoscaling.py: called
    MotoName(
        "moto.applicationautoscaling.models.ApplicationAutoscalingBackend.delete_scaling_policy",
        "(self, policy_name, service_namespace, resource_id, scalable_dimension)",
    ),
    # models/cloudwatch.py: read (the service's backends)
    MotoName("moto.cloudwatch.models.cloudwatch_backends", EXISTS),
    # models/cloudwatch.py: called
    MotoName(
        "moto.cloudwatch.models.CloudWatchBackend.put_metric_alarm",
        "(self, name, namespace, metric_name, comparison_operator, evaluation_periods, period, threshold, "
        "statistic, description, dimensions, alarm_actions, metric_data_queries=None, "
        "datapoints_to_alarm=None, extended_statistic=None, ok_actions=None, insufficient_data_actions=None, "
        "unit=None, actions_enabled=True, treat_missing_data=None, "
        "evaluate_low_sample_count_percentile=None, threshold_metric_id=None, rule=None, tags=None)",
    ),
    # models/cloudwatch.py: called
    MotoName("moto.cloudwatch.models.CloudWatchBackend.delete_alarms", "(self, alarm_names)"),
    # models/cloudwatch.py: constructed
    MotoName("moto.cloudwatch.models.Dimension", "(self, name, value)"),
    # models/cloudwatch.py: constructed
    MotoName("moto.cloudwatch.models.Metric", "(self, metric_name, namespace, dimensions)"),
    # models/cloudwatch.py: constructed
    MotoName("moto.cloudwatch.models.MetricStat", "(self, metric, period, stat, unit)"),
    # models/cloudwatch.py: constructed
    MotoName(
        "moto.cloudwatch.models.MetricDataQuery",
        "(self, query_id, label, period, return_data, expression=None, metric_stat=None)",
    ),
    # models/ec2.py, models/rds.py: read (the service's backends)
    MotoName("moto.ec2.models.ec2_backends", EXISTS),
    # models/ec2.py: subclassed (AddressInUse passes it a code and a message)
    MotoName("moto.ec2.exceptions.EC2ClientError", "(self, *args, **kwargs)"),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.security_groups.SecurityGroup", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.security_groups.SecurityGroup.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced security group of models/ec2.py)
    MotoName("moto.ec2.models.security_groups.SecurityGroup.delete", "(self, account_id, region_name)"),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.vpcs.VPC", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.vpcs.VPC.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced VPC of models/ec2.py)
    MotoName(
        "moto.ec2.models.vpcs.VPC.delete_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name)",
    ),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.subnets.Subnet", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.subnets.Subnet.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced subnet of models/ec2.py)
    MotoName(
        "moto.ec2.models.subnets.Subnet.delete_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name)",
    ),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.route_tables.RouteTable", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.route_tables.Route.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.internet_gateways.InternetGateway", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.vpn_gateway.VPCGatewayAttachment.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.elastic_ip_addresses.ElasticAddress", EXISTS),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.nat_gateways.NatGateway", EXISTS),
    # models/ec2.py: subclassed (its __init__ is not called)
    MotoName("moto.ec2.models.flow_logs.FlowLogs", EXISTS),
    # models/ec2.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.ec2.models.flow_logs.FlowLogs.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.get_security_group_by_name_or_id",
        "(self, group_name_or_id, vpc_id=None)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.authorize_security_group_ingress",
        "(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags=None, "
        "source_groups=None, prefix_list_ids=None, security_rule_ids=None, vpc_id=None)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.authorize_security_group_egress",
        "(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, sgrule_tags=None, "
        "source_groups=None, prefix_list_ids=None, security_rule_ids=None, vpc_id=None)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.revoke_security_group_ingress",
        "(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, source_groups=None, "
        "prefix_list_ids=None, security_rule_ids=None, vpc_id=None)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.revoke_security_group_egress",
        "(self, group_name_or_id, ip_protocol, from_port, to_port, ip_ranges, source_groups=None, "
        "prefix_list_ids=None, security_rule_ids=None, vpc_id=None)",
    ),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.create_tags", "(self, resource_ids, tags)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_tag_keys", "(self, resource_ids, tag_keys)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.create_route_table", "(self, vpc_id, tags=None, main=False)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_route_table", "(self, route_table_id)"),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.delete_route",
        "(self, route_table_id, destination_cidr_block, destination_ipv6_cidr_block=None, "
        "destination_prefix_list_id=None)",
    ),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.associate_route_table",
        "(self, route_table_id, gateway_id=None, subnet_id=None)",
    ),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.disassociate_route_table", "(self, association_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.create_internet_gateway", "(self, tags=None)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_internet_gateway", "(self, internet_gateway_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.detach_internet_gateway", "(self, internet_gateway_id, vpc_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.detach_vpn_gateway", "(self, vpn_gateway_id, vpc_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.allocate_address", "(self, domain, address=None, tags=None)"),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.associate_address",
        "(self, instance=None, eni=None, address=None, allocation_id=None, reassociate=False)",
    ),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.disassociate_address", "(self, address=None, association_id=None)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.address_by_ip", "(self, ips, fail_if_not_found=True)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.release_address", "(self, address=None, allocation_id=None)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.get_instance_by_id", "(self, instance_id)"),
    # models/ec2.py: called
    MotoName(
        "moto.ec2.models.EC2Backend.create_nat_gateway",
        "(self, subnet_id, allocation_id, tags=None, connectivity_type='public')",
    ),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_nat_gateway", "(self, nat_gateway_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_network_interface", "(self, eni_id)"),
    # models/ec2.py: called
    MotoName("moto.ec2.models.EC2Backend.delete_flow_logs", "(self, flow_log_ids)"),
    # models/rds.py: called
    MotoName("moto.ec2.models.EC2Backend.get_subnet", "(self, subnet_id)"),
    # models/ecs.py: read (the service's backends)
    MotoName("moto.ecs.models.ecs_backends", EXISTS),
    # models/ecs.py: subclassed (its __init__ is not called)
    MotoName("moto.ecs.models.Cluster", EXISTS),
    # models/ecs.py: subclassed (its __init__ is not called)
    MotoName("moto.ecs.models.TaskDefinition", EXISTS),
    # models/ecs.py: subclassed (its __init__ is not called)
    MotoName("moto.ecs.models.Service", EXISTS),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.create_cluster",
        "(self, cluster_name, tags=None, cluster_settings=None, configuration=None, capacity_providers=None, "
        "default_capacity_provider_strategy=None, service_connect_defaults=None)",
    ),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.update_cluster",
        "(self, cluster_name, cluster_settings, configuration, service_connect_defaults)",
    ),
    # models/ecs.py: called
    MotoName("moto.ecs.models.EC2ContainerServiceBackend.delete_cluster", "(self, cluster_str)"),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.put_cluster_capacity_providers",
        "(self, cluster_name, capacity_providers, default_capacity_provider_strategy)",
    ),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.register_task_definition",
        "(self, family, container_definitions, volumes=None, network_mode=None, tags=None, "
        "placement_constraints=None, requires_compatibilities=None, cpu=None, memory=None, "
        "task_role_arn=None, execution_role_arn=None, proxy_configuration=None, inference_accelerators=None, "
        "runtime_platform=None, ipc_mode=None, pid_mode=None, ephemeral_storage=None)",
    ),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.deregister_task_definition",
        "(self, task_definition_str)",
    ),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.create_service",
        "(self, cluster_str, service_name, desired_count, task_definition_str=None, load_balancers=None, "
        "scheduling_strategy=None, tags=None, deployment_controller=None, launch_type=None, "
        "service_registries=None, platform_version=None, propagate_tags='NONE', network_configuration=None, "
        "role_arn=None)",
    ),
    # models/ecs.py: called
    MotoName("moto.ecs.models.EC2ContainerServiceBackend.update_service", "(self, service_properties)"),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.delete_service",
        "(self, cluster_name, service_name, force)",
    ),
    # models/ecs.py: wrapped (deleted services left out)
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.list_services",
        "(self, cluster_str, scheduling_strategy=None, launch_type=None)",
    ),
    # models/ecs.py: called (a service's task, as the live data plane runs it)
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.run_task",
        "(self, cluster_str, task_definition_str, count, overrides, started_by, tags, launch_type, "
        "networking_configuration=None, group=None, platform_version=None, capacity_provider_strategy=None)",
    ),
    # models/ecs.py: called
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.describe_task_definition", "(self, task_definition_str)"
    ),
    # models/ecs.py: wrapped (filtered by serviceName)
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend.list_tasks",
        "(self, cluster_str=None, container_instance=None, family=None, started_by=None, service_name=None, "
        "desiredStatus=None)",
    ),
    # models/ecs.py: wrapped (a container without memory of its own adds none)
    MotoName(
        "moto.ecs.models.EC2ContainerServiceBackend._calculate_task_resource_requirements",
        "(task_definition)",
    ),
    # models/ecs.py: its status set, its transitions emptied (a ManagedState), read (task_arn)
    MotoName(
        "moto.ecs.models.Task",
        "(self, cluster, task_definition, container_instance_arn, resource_requirements, backend, group, "
        "launch_type='', overrides=None, started_by='', tags=None, networking_configuration=None, "
        "platform_version=None, capacity_provider_name=None)",
    ),
    MotoName("moto.ecs.models.Task.task_arn", EXISTS),
    MotoName("moto.moto_api._internal.managed_state_model.ManagedState", "(self, model_name, transitions)"),
    # models/ecs.py: called (a stopped task's ENI released)
    MotoName(
        "moto.ec2.models.elastic_network_interfaces.NetworkInterfaceBackend.delete_network_interface",
        "(self, eni_id)",
    ),
    # models/ec2.py: gains private_dns_name as a property (moto's ECS reads it of an awsvpc task's ENI)
    MotoName("moto.ec2.models.elastic_network_interfaces.NetworkInterface.private_dns_name", MISSING),
    # models/events.py: wrapped (Lambda targets left out)
    MotoName("moto.events.models.Rule.send_to_targets", "(self, original_event, transform_input=True)"),
    # models/events.py: replaced (moto's answers nothing); moto's matching called
    MotoName("moto.events.responses.EventsHandler.test_event_pattern", "(self)"),
    MotoName("moto.events.models.EventPattern.load", "(raw_pattern)"),
    MotoName("moto.events.models.EventPattern.matches_event", "(self, event)"),
    MotoName("moto.utilities.arns.parse_arn", "(arn)"),
    # models/efs.py: read (the service's backends)
    MotoName("moto.efs.models.efs_backends", EXISTS),
    # models/efs.py: called (moto's own model makes the resource)
    MotoName(
        "moto.efs.models.FileSystem.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/efs.py: subclassed (its __init__ is not called)
    MotoName("moto.efs.models.AccessPoint", EXISTS),
    # models/efs.py: called (moto's own model makes the resource)
    MotoName(
        "moto.efs.models.AccessPoint.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced access point of models/efs.py)
    MotoName("moto.efs.models.AccessPoint.delete", "(self, account_id, region_name)"),
    # models/efs.py: called
    MotoName("moto.efs.models.EFSBackend.put_lifecycle_configuration", "(self, file_system_id, policies)"),
    # models/efs.py: called
    MotoName("moto.efs.models.EFSBackend.delete_file_system", "(self, file_system_id)"),
    # models/elbv2.py: read (the service's backends)
    MotoName("moto.acm.models.acm_backends", EXISTS),
    # models/elbv2.py: called (a stand-in certificate)
    MotoName(
        "moto.acm.models.CertBundle.generate_cert",
        "(domain_name, account_id, region, sans=None, cert_authority_arn=None)",
    ),
    # models/elbv2.py: read (the service's backends)
    MotoName("moto.iam.iam_backends", EXISTS),
    # models/elbv2.py: called
    MotoName("moto.iam.models.IAMBackend.get_certificate_by_arn", "(self, arn)"),
    # models/elbv2.py: caught
    MotoName("moto.elbv2.exceptions.ListenerNotFoundError", EXISTS),
    # models/elbv2.py: raised with no arguments (deregistering a target that is not registered)
    MotoName("moto.elbv2.exceptions.InvalidTargetError", EXISTS),
    # models/elbv2.py: patched (targets keyed by Id and Port); the originals are called
    MotoName("moto.elbv2.models.FakeTargetGroup.register", "(self, targets)"),
    MotoName("moto.elbv2.models.FakeTargetGroup.deregister", "(self, targets)"),
    MotoName("moto.elbv2.models.FakeTargetGroup.deregister_terminated_instances", "(self, instance_ids)"),
    MotoName("moto.elbv2.models.FakeTargetGroup.health_for", "(self, target, ec2_backend)"),
    # models/elbv2.py: patched (DescribeListeners lists the default certificate only)
    MotoName("moto.elbv2.responses.ELBV2Response.RESPONSE_KEY_PATH_TO_TRANSFORMER", EXISTS),
    # models/elbv2.py: called by the patched transformer
    MotoName("moto.elbv2.responses.transform_certificates", "(data)"),
    # models/elbv2.py: read (the service's backends)
    MotoName("moto.elbv2.models.elbv2_backends", EXISTS),
    # models/elbv2.py: called
    MotoName(
        "moto.elbv2.models.ELBv2Backend.create_load_balancer",
        "(self, name, security_groups, subnet_ids, subnet_mappings=None, scheme='internet-facing', "
        "loadbalancer_type=None, ip_address_type='ipv4', tags=None)",
    ),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.modify_load_balancer_attributes", "(self, arn, attrs)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.set_security_groups", "(self, arn, sec_groups)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.delete_load_balancer", "(self, arn)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.create_target_group", "(self, name, **kwargs)"),
    # models/elbv2.py: called
    MotoName(
        "moto.elbv2.models.ELBv2Backend.modify_target_group_attributes",
        "(self, target_group_arn, attributes)",
    ),
    # models/elbv2.py: called
    MotoName(
        "moto.elbv2.models.ELBv2Backend.modify_target_group",
        "(self, arn, health_check_proto=None, health_check_port=None, health_check_path=None, "
        "health_check_interval=None, health_check_timeout=None, healthy_threshold_count=None, "
        "unhealthy_threshold_count=None, http_codes=None, health_check_enabled=None)",
    ),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.delete_target_group", "(self, target_group_arn)"),
    # models/elbv2.py: called
    MotoName(
        "moto.elbv2.models.ELBv2Backend.create_listener",
        "(self, load_balancer_arn, protocol, port, ssl_policy, certificate, actions, alpn_policy=None, "
        "tags=None)",
    ),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.convert_and_validate_properties", "(self, properties)"),
    # models/elbv2.py: called
    MotoName(
        "moto.elbv2.models.ELBv2Backend.modify_listener",
        "(self, arn, port=None, protocol=None, ssl_policy=None, certificates=None, actions=None)",
    ),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.delete_listener", "(self, listener_arn)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.add_listener_certificates", "(self, arn, certificates)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.remove_listener_certificates", "(self, arn, certificates)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.describe_tags", "(self, resource_arns)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.add_tags", "(self, resource_arns, tags)"),
    # models/elbv2.py: called
    MotoName("moto.elbv2.models.ELBv2Backend.remove_tags", "(self, resource_arns, tag_keys)"),
    # models/iam.py: read (the service's backends)
    MotoName("moto.iam.models.iam_backends", EXISTS),
    # models/iam.py: subclassed (its __init__ is not called)
    MotoName("moto.iam.models.Role", EXISTS),
    # models/iam.py: extended (called through super())
    MotoName(
        "moto.iam.models.Role.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/iam.py: extended (called through super())
    MotoName(
        "moto.iam.models.Role.delete_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name)",
    ),
    # models/iam.py: called (an AWS-managed policy made known to the backend)
    MotoName("moto.iam.models.AWSManagedPolicy.from_data", "(name, account_id, region_name, data)"),
    # models/iam.py: called
    MotoName("moto.iam.models.IAMBackend.attach_role_policy", "(self, policy_arn, role_name)"),
    # models/iam.py: called
    MotoName("moto.iam.models.IAMBackend.detach_role_policy", "(self, policy_arn, role_name)"),
    # models/iam.py: called
    MotoName("moto.iam.models.IAMBackend.get_role", "(self, role_name)"),
    # models/iam.py: read (AWS-managed policies by name)
    MotoName("moto.iam.aws_managed_policies.aws_managed_policies_data", EXISTS),
    # models/iam.py: constructed (an unknown AWS-managed policy)
    MotoName("moto.iam.exceptions.NotFoundException", "(self, *args, **kwargs)"),
    # models/lambda_.py: read (the service's backends)
    MotoName("moto.awslambda.models.lambda_backends", EXISTS),
    # models/lambda_.py: called
    MotoName("moto.awslambda.models.LambdaBackend.add_permission", "(self, function_name, qualifier, raw)"),
    # models/lambda_.py: called
    MotoName(
        "moto.awslambda.models.LambdaBackend.remove_permission",
        "(self, function_name, sid, revision='')",
    ),
    # models/lambda_.py: caught
    MotoName("moto.awslambda.exceptions.UnknownFunctionException", EXISTS),
    # models/lambda_.py: caught
    MotoName("moto.awslambda.exceptions.UnknownPolicyException", EXISTS),
    # models/logs.py: read (the service's backends)
    MotoName("moto.logs.models.logs_backends", EXISTS),
    # models/logs.py: subclassed (its __init__ is not called)
    MotoName("moto.logs.models.LogGroup", EXISTS),
    # models/logs.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.logs.models.LogGroup.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced log group of models/logs.py)
    MotoName("moto.logs.models.LogGroup.delete", "(self, account_id, region_name)"),
    # models/logs.py: called
    MotoName(
        "moto.logs.models.LogsBackend.put_retention_policy",
        "(self, log_group_name, retention_in_days)",
    ),
    # models/logs.py: called
    MotoName("moto.logs.models.LogsBackend.delete_retention_policy", "(self, log_group_name)"),
    # models/logs.py: called
    MotoName("moto.logs.models.LogsBackend.list_tags_log_group", "(self, log_group_name)"),
    # models/logs.py: called
    MotoName("moto.logs.models.LogsBackend.tag_log_group", "(self, log_group_name, tags)"),
    # models/logs.py: called
    MotoName("moto.logs.models.LogsBackend.untag_log_group", "(self, log_group_name, tags)"),
    # models/rds.py, models/secretsmanager.py: read (the service's backends)
    MotoName("moto.rds.models.rds_backends", EXISTS),
    # models/rds.py: subclassed (its __init__ is not called)
    MotoName("moto.rds.models.DBInstance", EXISTS),
    # models/_base.py: called (a replaced instance of models/rds.py)
    MotoName("moto.rds.models.DBInstance.delete", "(self, account_id, region_name)"),
    # models/rds.py: subclassed (its __init__ is not called)
    MotoName("moto.rds.models.DBSubnetGroup", EXISTS),
    # models/rds.py: called (moto's own model makes the resource)
    MotoName(
        "moto.rds.models.DBSubnetGroup.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/_base.py: called (a replaced subnet group of models/rds.py)
    MotoName("moto.rds.models.DBSubnetGroup.delete", "(self, account_id, region_name)"),
    # models/rds.py: called
    MotoName("moto.rds.models.RDSBackend.create_db_cluster", "(self, kwargs)"),
    # models/rds.py: called
    MotoName("moto.rds.models.RDSBackend.modify_db_cluster", "(self, kwargs)"),
    # models/rds.py: called
    MotoName(
        "moto.rds.models.RDSBackend.delete_db_cluster",
        "(self, cluster_identifier, snapshot_name=None)",
    ),
    # models/rds.py: called
    MotoName("moto.rds.models.RDSBackend.create_db_instance", "(self, db_kwargs)"),
    # models/rds.py: called
    MotoName("moto.rds.models.RDSBackend.create_db_instance_read_replica", "(self, db_kwargs)"),
    # models/rds.py: called
    MotoName("moto.rds.models.RDSBackend.modify_db_instance", "(self, db_instance_identifier, db_kwargs)"),
    # models/rds.py: called
    MotoName(
        "moto.rds.models.RDSBackend.modify_db_subnet_group",
        "(self, subnet_name, description, subnets)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.rds.models.RDSBackend.describe_db_clusters",
        "(self, db_cluster_identifier=None, filters=None)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.rds.models.RDSBackend.describe_db_instances",
        "(self, db_instance_identifier=None, filters=None)",
    ),
    # models/route53.py: read (the service's backends)
    MotoName("moto.route53.models.route53_backends", EXISTS),
    # models/route53.py: subclassed (its __init__ is not called)
    MotoName("moto.route53.models.FakeZone", EXISTS),
    # models/route53.py: subclassed (its __init__ is not called)
    MotoName("moto.route53.models.RecordSet", EXISTS),
    # models/route53.py: called through moto_create (moto's own model makes the resource)
    MotoName(
        "moto.route53.models.RecordSet.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/route53.py: called (a record set updated in place is rewritten)
    MotoName("moto.route53.models.RecordSet.delete", "(self, account_id, region)"),
    # models/route53.py: subclassed (ConflictingDomainExists passes it a code and a message)
    MotoName("moto.route53.exceptions.Route53ClientError", "(self, *args, **kwargs)"),
    # models/route53.py: called
    MotoName(
        "moto.route53.models.Route53Backend.create_hosted_zone",
        "(self, name, private_zone, caller_reference=None, vpcid=None, vpcregion=None, comment=None, "
        "delegation_set_id=None)",
    ),
    # models/route53.py: called
    MotoName(
        "moto.route53.models.Route53Backend.associate_vpc_with_hosted_zone",
        "(self, zone_id, vpcid, vpcregion)",
    ),
    # models/route53.py: called
    MotoName(
        "moto.route53.models.Route53Backend.disassociate_vpc_from_hosted_zone",
        "(self, zone_id, vpcid)",
    ),
    # models/route53.py: called
    MotoName(
        "moto.route53.models.Route53Backend.change_tags_for_resource",
        "(self, resource_type, resource_id, add_tags, remove_tag_keys)",
    ),
    # models/route53.py: called
    MotoName("moto.route53.models.Route53Backend.delete_hosted_zone", "(self, id_)"),
    # models/s3.py: read (the service's backends)
    MotoName("moto.s3.models.s3_backends", EXISTS),
    # models/s3.py: subclassed (its __init__ is not called)
    MotoName("moto.s3.models.FakeBucket", EXISTS),
    # models/s3.py: extended (called through super())
    MotoName(
        "moto.s3.models.FakeBucket.create_from_cloudformation_json",
        "(resource_name, cloudformation_json, account_id, region_name, **kwargs)",
    ),
    # models/s3.py: replaced (statements with conditions left out)
    MotoName("moto.s3.models.FakeBucket.get_permission", "(self, action, resource)"),
    # models/s3.py: called
    MotoName("moto.s3.models.S3Backend.put_bucket_policy", "(self, bucket_name, policy)"),
    # models/s3.py: called
    MotoName("moto.s3.models.S3Backend.delete_bucket_policy", "(self, bucket_name)"),
    # models/s3.py: called
    MotoName("moto.s3.models.S3Backend.put_bucket_lifecycle", "(self, bucket_name, rules)"),
    # models/s3.py: called
    MotoName("moto.s3.models.S3Backend.put_public_access_block", "(self, bucket_name, pub_block_config)"),
    # models/s3.py: constructed (a bucket policy's unconditional statements)
    MotoName("moto.iam.access_control.IAMPolicy", "(self, policy)"),
    # models/s3.py: called by the replacement FakeBucket.get_permission
    MotoName(
        "moto.iam.access_control.IAMPolicy.is_action_permitted",
        "(self, action, resource='*', principal=None, incoming_condition_values=None)",
    ),
    # models/s3.py: returned (a bucket without a policy)
    MotoName("moto.iam.access_control.PermissionResult.NEUTRAL", EXISTS),
    # models/_base.py, models/secretsmanager.py: read (the service's backends)
    MotoName("moto.secretsmanager.models.secretsmanager_backends", EXISTS),
    # models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.get_random_password",
        "(self, password_length, exclude_characters, exclude_numbers, exclude_punctuation, "
        "exclude_uppercase, exclude_lowercase, include_space, require_each_included_type)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.create_secret",
        "(self, name, secret_string, secret_binary, description, tags, kms_key_id, client_request_token, "
        "replica_regions, force_overwrite)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.update_secret",
        "(self, secret_id, secret_string=None, secret_binary=None, client_request_token=None, "
        "kms_key_id=None, description=None)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.delete_secret",
        "(self, secret_id, recovery_window_in_days, force_delete_without_recovery)",
    ),
    # models/_base.py, models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.get_secret_value",
        "(self, secret_id, version_id, version_stage)",
    ),
    # models/secretsmanager.py: called
    MotoName(
        "moto.secretsmanager.models.SecretsManagerBackend.put_secret_value",
        "(self, secret_id, secret_string, secret_binary, client_request_token, version_stages)",
    ),
)
"""Every private part of moto the gap-fills rely on, with its shape in the supported moto."""
