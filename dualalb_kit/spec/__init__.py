"""The deployment spec: the plain-data language shared by params files, widgets and the CLI.

A params file is YAML whose top-level keys are :class:`DeploymentSpec`'s fields, so
``papermill -f params/x.yaml`` injects them into a notebook's parameters cell unchanged.
Every error is a one-line :class:`~dualalb_kit.errors.ValidationError` naming the key path
(``tasks[1].internal.port: 70000 is not a port (1-65535)``). This package imports no CDK.

| module | owns |
|---|---|
| ``deployment`` | :class:`DeploymentSpec` (a whole deployment), the rules of NLB stacks and app patterns |
| ``tasks`` | :class:`TaskSpec`, its parts (listeners, scaling, capacity, ...) and the rules on a task list |
| ``apps`` | the options of the wordpress and laravel patterns |
| ``loading`` | :func:`load_spec` and :func:`spec_from_parameters` |
| ``strict`` | the strict base model and pydantic's errors as one-line errors |
"""

from .apps import APP_PATTERNS, LARAVEL_SAMPLE_CODE, DatabaseOptionsSpec, LaravelSpec, WordPressSpec
from .deployment import (
    APP_PATTERN_UNSUPPORTED,
    LOG_RETENTION_DAYS,
    NLB_ONLY_ALB_OPTIONS,
    SUBNET_CHOICES,
    DeploymentSpec,
    Route53Spec,
    check_app_pattern,
    check_laravel,
    check_nlb_stack,
    check_wordpress,
)
from .loading import SAMPLE_PARAMS, load_spec, spec_from_parameters
from .tasks import (
    FARGATE_MEMORY_BY_CPU,
    SAMPLE_IMAGE_PREFIX,
    AlbSpec,
    CapacitySpec,
    DeploymentStrategySpec,
    ForwardConditionSpec,
    HealthCheckSpec,
    LocalCommandSpec,
    ScalingSpec,
    ScheduledScalingSpec,
    TaskSpec,
    check_tasks,
    stack_capacity,
)

__all__ = [
    "APP_PATTERNS",
    "APP_PATTERN_UNSUPPORTED",
    "AlbSpec",
    "CapacitySpec",
    "DatabaseOptionsSpec",
    "DeploymentSpec",
    "DeploymentStrategySpec",
    "FARGATE_MEMORY_BY_CPU",
    "ForwardConditionSpec",
    "HealthCheckSpec",
    "LARAVEL_SAMPLE_CODE",
    "LOG_RETENTION_DAYS",
    "LaravelSpec",
    "LocalCommandSpec",
    "NLB_ONLY_ALB_OPTIONS",
    "Route53Spec",
    "SAMPLE_IMAGE_PREFIX",
    "SAMPLE_PARAMS",
    "SUBNET_CHOICES",
    "ScalingSpec",
    "ScheduledScalingSpec",
    "TaskSpec",
    "WordPressSpec",
    "check_app_pattern",
    "check_laravel",
    "check_nlb_stack",
    "check_tasks",
    "check_wordpress",
    "load_spec",
    "spec_from_parameters",
    "stack_capacity",
]
