"""Where the Python peer's template (``sample_stack.py``) and ``dualalb-kit synth``'s template of
params/sample.yaml differ in resource types and counts; plain JSON, no CDK import."""

from __future__ import annotations

from collections import Counter
from typing import Any

KNOWN_DIFFERENCES: dict[str, int] = {
    "AWS::Events::Rule": -1,
    "AWS::IAM::Policy": -1,
    "AWS::IAM::Role": -1,
    "AWS::Lambda::Function": -1,
    "AWS::Lambda::Permission": -1,
    "AWS::Logs::LogGroup": -1,
}
"""Resource type -> (the peer's count) - (the kit's count) where they are meant to differ: the kit's
Spot termination handler (on by default for Spot tasks: a function with its log group, role and
policy, an EventBridge rule and its invoke permission), which the peer leaves out; otherwise the
two templates hold the same resource types in the same numbers (81 resources, 87 in the kit's)."""


def resource_differences(peer_template: dict[str, Any], kit_template: dict[str, Any]) -> dict[str, int]:
    """Resource type -> (count in ``peer_template``) - (count in ``kit_template``), where not 0."""
    peer = Counter(resource["Type"] for resource in peer_template["Resources"].values())
    peer.subtract(resource["Type"] for resource in kit_template["Resources"].values())
    return {kind: count for kind, count in sorted(peer.items()) if count}
