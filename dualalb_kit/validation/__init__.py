"""Rules on plain values shared by the spec and the constructs.

Each check raises :class:`~dualalb_kit.errors.ValidationError` naming the field path; none imports
CDK, so the spec (before synthesis) and the constructs (before jsii) apply the same rules. One
family of rules per module:

| module | owns |
|---|---|
| ``listeners`` | ports, forward conditions, tasks sharing a listener, idle timeouts; :data:`SIDES` |
| ``services`` | :class:`ServiceRules`, :func:`check_services` (every rule of a service), the stack size |
| ``scaling`` | target tracking, scheduled scaling and capacity strategies, with their defaults |
| ``cron`` | Application Auto Scaling's cron expressions |
| ``deployment`` | rolling bounds and the blue/green, linear and canary strategies |
| ``nlb`` | what a Network Load Balancer cannot do |
| ``identifiers`` | AWS's names and ids: stack, cluster, account, VPC/subnet, certificate, region, DNS |
| ``health_check`` | a target group's health check |
| ``containers`` | a container's image, environment size and local command |
| ``credentials`` | environment values that look like credentials (warnings) |
| ``database`` | the database of the app patterns and Laravel's code directory |
| ``limits`` | quotas several families share, and the range checks |
"""

from .containers import (
    ENVIRONMENT_BYTES_MAX,
    LOCAL_ARGUMENT_MAX_CHARS,
    LOCAL_COMMAND_MAX_ARGUMENTS,
    TASK_DEFINITION_BYTES_MAX,
    check_environment,
    check_image,
    check_local_command,
    check_local_cwd,
)
from .credentials import credential_warnings, looks_like_credential
from .cron import CRON_FIELDS, check_cron
from .database import (
    BACKUP_RETENTION_DAYS,
    DATABASE_DEFAULTS,
    RETAINED_DATABASE_IN_NEW_VPC,
    SERVERLESS_CAPACITY_ACU,
    check_code_directory,
    check_database,
    check_database_name,
    check_db_instance_type,
)
from .deployment import (
    CANARY_PERCENT,
    DEPLOYMENT_CFN_MINUTES_MAX,
    DEPLOYMENT_DEFAULTS,
    DEPLOYMENT_MINUTES_MAX,
    DEPLOYMENT_STRATEGIES,
    LINEAR_STEP_PERCENT,
    DeploymentRules,
    check_deployment,
    check_deployment_strategy,
)
from .health_check import (
    HEALTH_CHECK_INTERVAL_SECONDS,
    HEALTH_CHECK_PATH_MAX,
    HEALTH_CHECK_THRESHOLD,
    HEALTH_CHECK_TIMEOUT_SECONDS,
    HEALTHY_HTTP_CODES,
    check_health_check,
)
from .identifiers import (
    STACK_NAME_MAX,
    check_account,
    check_certificate_arn,
    check_certificate_region,
    check_cluster_name,
    check_dns_name,
    check_region,
    check_resource_id,
    check_stack_name,
    known_regions,
    region_partitions,
)
from .limits import INT32_MAX, TASKS_PER_SERVICE_MAX
from .listeners import (
    CONDITION_VALUE_MAX,
    FORWARD_CONDITION_FIELDS,
    RULE_CONDITION_VALUES_MAX,
    RULES_PER_LISTENER_MAX,
    SIDES,
    Condition,
    ListenerUse,
    check_condition_value,
    check_forward_conditions,
    check_idle_timeout,
    check_port,
    check_shared_listeners,
    conditions_overlap,
)
from .nlb import LOAD_BALANCERS, NLB_PROTOCOLS, NlbRules, check_nlb_services
from .scaling import (
    CAPACITY_BASE_MAX,
    CAPACITY_PROVIDERS,
    CAPACITY_WEIGHT_MAX,
    DEFAULT_MAX_CAPACITY,
    DEFAULT_MIN_CAPACITY,
    DEFAULT_REQUESTS_PER_TARGET,
    DEFAULT_TARGET_CPU_UTILIZATION,
    check_capacity_strategy,
    check_scaling,
    check_scheduled_scaling,
)
from .services import (
    RESOURCES_PER_SECOND_LISTENER,
    RESOURCES_PER_SERVICE,
    STACK_RESOURCES_MAX,
    ServiceRules,
    check_services,
    check_stack_size,
)

__all__ = [
    "BACKUP_RETENTION_DAYS",
    "CANARY_PERCENT",
    "CAPACITY_BASE_MAX",
    "CAPACITY_PROVIDERS",
    "CAPACITY_WEIGHT_MAX",
    "CONDITION_VALUE_MAX",
    "CRON_FIELDS",
    "Condition",
    "DATABASE_DEFAULTS",
    "DEFAULT_MAX_CAPACITY",
    "DEFAULT_MIN_CAPACITY",
    "DEFAULT_REQUESTS_PER_TARGET",
    "DEFAULT_TARGET_CPU_UTILIZATION",
    "DEPLOYMENT_CFN_MINUTES_MAX",
    "DEPLOYMENT_DEFAULTS",
    "DEPLOYMENT_MINUTES_MAX",
    "DEPLOYMENT_STRATEGIES",
    "DeploymentRules",
    "ENVIRONMENT_BYTES_MAX",
    "FORWARD_CONDITION_FIELDS",
    "HEALTHY_HTTP_CODES",
    "HEALTH_CHECK_INTERVAL_SECONDS",
    "HEALTH_CHECK_PATH_MAX",
    "HEALTH_CHECK_THRESHOLD",
    "HEALTH_CHECK_TIMEOUT_SECONDS",
    "INT32_MAX",
    "LINEAR_STEP_PERCENT",
    "LOAD_BALANCERS",
    "LOCAL_ARGUMENT_MAX_CHARS",
    "LOCAL_COMMAND_MAX_ARGUMENTS",
    "ListenerUse",
    "NLB_PROTOCOLS",
    "NlbRules",
    "RESOURCES_PER_SECOND_LISTENER",
    "RESOURCES_PER_SERVICE",
    "RETAINED_DATABASE_IN_NEW_VPC",
    "RULES_PER_LISTENER_MAX",
    "RULE_CONDITION_VALUES_MAX",
    "SERVERLESS_CAPACITY_ACU",
    "SIDES",
    "STACK_NAME_MAX",
    "STACK_RESOURCES_MAX",
    "ServiceRules",
    "TASKS_PER_SERVICE_MAX",
    "TASK_DEFINITION_BYTES_MAX",
    "check_account",
    "check_capacity_strategy",
    "check_certificate_arn",
    "check_certificate_region",
    "check_cluster_name",
    "check_code_directory",
    "check_condition_value",
    "check_cron",
    "check_database",
    "check_database_name",
    "check_db_instance_type",
    "check_deployment",
    "check_deployment_strategy",
    "check_dns_name",
    "check_environment",
    "check_forward_conditions",
    "check_health_check",
    "check_idle_timeout",
    "check_image",
    "check_local_command",
    "check_local_cwd",
    "check_nlb_services",
    "check_port",
    "check_region",
    "check_resource_id",
    "check_scaling",
    "check_scheduled_scaling",
    "check_services",
    "check_shared_listeners",
    "check_stack_name",
    "check_stack_size",
    "conditions_overlap",
    "credential_warnings",
    "known_regions",
    "looks_like_credential",
    "region_partitions",
]
