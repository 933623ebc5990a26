"""CloudTrail's LookupEvents in the sandbox.

After a failed deploy the CDK CLI asks CloudTrail which API calls failed. moto does not
implement ``LookupEvents`` and answers with a server error and a traceback; the sandbox records
no CloudTrail events, so it answers with none, and the CLI reports the stack events instead.
"""

from __future__ import annotations

import json

from moto.cloudtrail.responses import CloudTrailResponse


def _lookup_events(self: CloudTrailResponse) -> str:
    return json.dumps({"Events": []})


def install() -> None:
    """Answer ``LookupEvents`` with no events in moto's CloudTrail (idempotent)."""
    CloudTrailResponse.lookup_events = _lookup_events
