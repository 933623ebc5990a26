"""EventBridge: events matching a rule that targets a Lambda function are accepted, and
``TestEventPattern`` answers.

moto sends an event to a rule's queue, log group, archive, bus and API destination targets and
fails ``PutEvents`` (a 500) on any other target, Lambda included: it runs functions only in
Docker. Here a rule's Lambda targets are skipped and the rest get the event as moto sends it;
the live data plane runs the kit's own handlers for the events it puts
(:mod:`dualalb_kit.sandbox.live.interruptions`), finding the rules an event matches with
``TestEventPattern``, which moto accepts but never answers; here it answers with moto's own
matching (the one ``PutEvents`` uses).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.events.models import EventPattern, Rule
from moto.events.responses import EventsHandler
from moto.utilities.arns import parse_arn

_moto_send_to_targets = getattr(Rule.send_to_targets, "__wrapped__", Rule.send_to_targets)


def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    """moto's delivery to every target of the rule but its Lambda functions."""
    view = copy.copy(self)
    view.targets = [target for target in self.targets if parse_arn(target["Arn"]).service != "lambda"]
    _moto_send_to_targets(view, original_event, transform_input)


send_to_targets.__wrapped__ = _moto_send_to_targets  # type: ignore[attr-defined]
Rule.send_to_targets = send_to_targets


def test_event_pattern(self: EventsHandler) -> str:
    """``{"Result": true}`` when the event (JSON) matches the pattern, as moto matches rules."""
    pattern = EventPattern.load(self._get_param("EventPattern"))
    return json.dumps({"Result": pattern.matches_event(json.loads(self._get_param("Event")))})


EventsHandler.test_event_pattern = test_event_pattern
