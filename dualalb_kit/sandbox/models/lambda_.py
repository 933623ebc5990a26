"""Lambda permissions as CloudFormation makes them: a statement on the function's policy.

moto's ``AWS::Lambda::Permission`` adds the statement but has no physical id and no delete, so
a stack with an EventBridge rule invoking a function (the Spot termination handler) never
completes, and the statement outlives the stack. Here the statement's id is the resource's
name, which is its physical id; deleting it removes the statement.
"""

from __future__ import annotations

import json
from typing import Self

from moto.awslambda.exceptions import UnknownFunctionException, UnknownPolicyException
from moto.awslambda.models import lambda_backends
from moto.core.common_models import CloudFormationModel

from ._base import Properties, StandaloneModel

PERMISSION_KEYS = (
    "Action",
    "Principal",
    "SourceArn",
    "SourceAccount",
    "EventSourceToken",
    "FunctionUrlAuthType",
)
"""The template's properties that become the statement (as AddPermission takes them)."""


class Permission(StandaloneModel, CloudFormationModel):
    """``AWS::Lambda::Permission``: the statement ``resource_name`` on the function's policy."""

    replaced_side_by_side = False

    cfn_type = "AWS::Lambda::Permission"
    id_attribute = "statement_id"

    def __init__(self, function_name: str, statement_id: str) -> None:
        self.function_name = function_name
        self.statement_id = statement_id

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Self:
        statement = {key: properties[key] for key in PERMISSION_KEYS if key in properties}
        lambda_backends[account_id][region_name].add_permission(
            properties["FunctionName"], None, json.dumps({**statement, "StatementId": resource_name})
        )
        return cls(properties["FunctionName"], resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the statement; a function already gone took its policy with it."""
        try:
            lambda_backends[account_id][region_name].remove_permission(self.function_name, self.statement_id)
        except (UnknownFunctionException, UnknownPolicyException):
            pass
