"""Where the Python peer's template (``sample_stack.py``) and ``dualalb-kit synth``'s template of
params/sample.yaml differ in resource types and counts; plain JSON, no CDK import."""

from __future__ import annotations

from collections import Counter
from typing import Any

KNOWN_DIFFERENCES: dict[str, int] = {}
"""Resource type -> (the peer's count) - (the kit's count) where they are meant to differ: none (the
two templates hold the same resource types in the same numbers, 87 resources each, the Spot
termination handler included)."""


def resource_differences(peer_template: dict[str, Any], kit_template: dict[str, Any]) -> dict[str, int]:
    """Resource type -> (count in ``peer_template``) - (count in ``kit_template``), where not 0."""
    peer = Counter(resource["Type"] for resource in peer_template["Resources"].values())
    peer.subtract(resource["Type"] for resource in kit_template["Resources"].values())
    return {kind: count for kind, count in sorted(peer.items()) if count}
