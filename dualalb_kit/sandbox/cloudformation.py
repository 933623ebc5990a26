"""Stack-level CloudFormation behaviour the sandbox adds to moto (outputs, events, rollback).

moto executes a change set by applying the template to the stack's resource map and stops
there: the stack keeps the empty output map it was created with, records no resource events
and, when a resource fails, leaves a half-built stack behind and answers the API call with an
error. The CDK CLI deploys through change sets, so the sandbox makes moto behave as
CloudFormation does:

* after a change set runs, the stack's template, parameters, outputs and exports are the new
  ones (``describe_stacks`` lists the outputs);
* every resource created, updated or deleted records ``*_IN_PROGRESS`` / ``*_COMPLETE`` stack
  events, or ``*_FAILED`` with the reason; these drive the CLI's progress display;
* a resource failure rolls the stack back: a new stack ends ``ROLLBACK_COMPLETE`` with its
  created resources deleted, an updated stack returns to its previous template and ends
  ``UPDATE_ROLLBACK_COMPLETE``; the stack status reason names the failed resources;
* a stack whose resources cannot all be deleted ends ``DELETE_FAILED`` and stays listed;
* change sets belong to their stack: the CLI names every one ``cdk-deploy-change-set``, so a
  name is looked up within the ``StackName`` given, a missing one answers
  ``ChangeSetNotFoundException`` (which the CLI waits for), and executing a change set removes
  the stack's change sets;
* a stack lists the resources it holds: moto created a template's missing resources on the
  fly when a stack's resources were listed, so listing a stack whose deletion failed
  re-created the resources already deleted;
* a parameter passed with ``UsePreviousValue`` keeps its previous input (for the SSM-typed
  ``BootstrapVersion`` that is the SSM parameter name; moto passed the resolved value and
  failed to look it up).

moto retries resource operations that fail on ordering (a dependency not yet deleted), so a
failure is recorded only when the whole operation gives up. Importing this module installs
the behaviour into moto (``Sandbox.start`` does); installing twice changes nothing.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError
from moto.core.responses import ActionResult, EmptyResult

from . import updates

_WRAPPED = "__dualalb_wrapped__"


@dataclass
class _Recording:
    """Resource events being recorded on one stack during one stack operation."""

    stack: cfn_models.Stack
    started: set[tuple[str, str]] = field(default_factory=set)
    pending_failures: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """logical id -> (resource type, status, reason) of failures not (yet) retried successfully."""

    def record(
        self, logical_id: str, resource_type: str, status: str, physical_id: str = "", reason: str = ""
    ) -> None:
        _append_event(
            self.stack,
            cfn_models.Event(
                stack_id=self.stack.stack_id,
                stack_name=self.stack.name,
                logical_resource_id=logical_id,
                physical_resource_id=physical_id,
                resource_type=resource_type,
                resource_status=status,
                resource_status_reason=reason or None,
                resource_properties=None,
            ),
        )

    def start(self, logical_id: str, resource_type: str, action: str, physical_id: str = "") -> None:
        if (logical_id, action) not in self.started:
            self.started.add((logical_id, action))
            self.record(logical_id, resource_type, f"{action}_IN_PROGRESS", physical_id)

    def complete(self, logical_id: str, resource_type: str, action: str, physical_id: str = "") -> None:
        self.pending_failures.pop(logical_id, None)
        self.record(logical_id, resource_type, f"{action}_COMPLETE", physical_id)

    def fail(self, logical_id: str, resource_type: str, action: str, reason: str) -> None:
        self.pending_failures[logical_id] = (resource_type, f"{action}_FAILED", reason)

    def flush_failures(self) -> list[str]:
        """Record the failures the operation gave up on; return the logical ids that failed themselves."""
        failed = []
        for logical_id, (resource_type, status, reason) in self.pending_failures.items():
            self.record(logical_id, resource_type, status, reason=reason)
            if not reason.endswith("cancelled"):
                failed.append(logical_id)
        self.pending_failures.clear()
        return failed


_EVENT_SPACING = datetime.timedelta(milliseconds=1)


def _append_event(stack: cfn_models.Stack, event: cfn_models.Event) -> None:
    """Append ``event``, at least a millisecond after the previous one.

    The sandbox runs a stack operation within a millisecond; the CLI orders events by their
    (millisecond) timestamps, so equal ones would print out of order.
    """
    if stack.events:
        event.timestamp = max(event.timestamp, stack.events[-1].timestamp + _EVENT_SPACING)
    stack.events.append(event)


_recordings: contextvars.ContextVar[dict[str, _Recording] | None] = contextvars.ContextVar(
    "dualalb_recordings", default=None
)
"""The recordings active in this request, by stack id."""


@contextmanager
def recording_events(stack: cfn_models.Stack) -> Iterator[_Recording]:
    """Record resource events on ``stack`` for resource operations inside the block.

    When the block raises, the failures are recorded and the exception carries the logical
    ids of the failed resources as ``failed_resources``.
    """
    recording = _Recording(stack)
    token = _recordings.set({**(_recordings.get() or {}), stack.stack_id: recording})
    try:
        yield recording
    except Exception as error:
        error.failed_resources = recording.flush_failures()  # type: ignore[attr-defined]
        raise
    finally:
        _recordings.reset(token)


def _recording_for(stack_id: str) -> _Recording | None:
    return (_recordings.get() or {}).get(stack_id)


def failure_reason(error: BaseException, physical_name: str | None = None) -> str:
    """One line saying why a resource operation failed, in CloudFormation's words."""
    error_type = getattr(error, "error_type", None) or getattr(error, "code", None) or type(error).__name__
    message = getattr(error, "message", None) or str(error) or error_type
    if physical_name and str(error_type).endswith("AlreadyExists"):
        message = f"{physical_name} already exists"
    message = " ".join(str(message).split())
    return f'Resource handler returned message: "{message}" (HandlerErrorCode: {error_type})'


def _physical_id(resource: Any) -> str:
    try:
        physical_id = getattr(resource, "physical_resource_id", None)
    except Exception:  # some moto models compute it from state that may be gone
        return ""
    return physical_id if isinstance(physical_id, str) else ""


def _declared_name(resource_json: dict[str, Any]) -> str | None:
    """The physical name the template sets for a resource (``BucketName`` etc.), if a plain string."""
    name_property = cfn_parsing.resource_name_property_from_type(resource_json.get("Type", ""))
    name = resource_json.get("Properties", {}).get(name_property) if name_property else None
    return name if isinstance(name, str) else None


_REPORTED = "_dualalb_reported_by"


def _with_events(action: str, operation: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap moto's ``parse_and_create_resource`` / ``parse_and_update_resource`` to record events.

    A resource that fails is reported with the reason; resources whose operation waited on it
    (moto creates referenced resources on first use) are reported as cancelled.
    """

    @functools.wraps(operation)
    def recorded(logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kwargs: Any) -> Any:
        recording = _recording_for(resources_map.stack_id)
        if recording is None:
            return operation(logical_id, resource_json, resources_map, **kwargs)
        resource_type = resource_json.get("Type", "")
        recording.start(logical_id, resource_type, action)
        original = resources_map._parsed_resources.get(logical_id) if action == "UPDATE" else None
        try:
            resource = operation(logical_id, resource_json, resources_map, **kwargs)
        except Exception as error:
            if getattr(error, _REPORTED, None):
                reason = f"Resource {action.lower()} cancelled"
            else:
                reason = failure_reason(error, _declared_name(resource_json))
                setattr(error, _REPORTED, logical_id)
            recording.fail(logical_id, resource_type, action, reason)
            raise
        if resource is not None:
            updates.replaced(logical_id, original, resource)
            recording.complete(logical_id, resource_type, action, _physical_id(resource))
        return resource

    setattr(recorded, _WRAPPED, True)
    return recorded


def _delete_with_events(delete: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``ResourceMap._delete_resource`` to record delete events."""

    @functools.wraps(delete)
    def recorded(resource_map: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        if updates.defer_removal(resource_map, parsed_resource, resource_json):
            return  # deleted in the update's cleanup, or kept by its rollback
        recording = _recording_for(resource_map.stack_id)
        if recording is None:
            return delete(resource_map, parsed_resource, resource_json)
        logical_id = getattr(parsed_resource, "logical_resource_id", "")
        resource_type, physical_id = resource_json.get("Type", ""), _physical_id(parsed_resource)
        recording.start(logical_id, resource_type, "DELETE", physical_id)
        try:
            delete(resource_map, parsed_resource, resource_json)
        except Exception as error:
            recording.fail(logical_id, resource_type, "DELETE", failure_reason(error))
            raise
        recording.complete(logical_id, resource_type, "DELETE", physical_id)

    setattr(recorded, _WRAPPED, True)
    return recorded


def _set_status(stack: cfn_models.Stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    stack.stack_status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)
    _append_event(stack, stack.events.pop())


def _failure_summary(error: Exception, stack: cfn_models.Stack, verb: str) -> str:
    """``The following resource(s) failed to <verb>: [A, B].`` (with the reason when no resource failed)."""
    failed = getattr(error, "failed_resources", None)
    if failed:
        return f"The following resource(s) failed to {verb}: [{', '.join(failed)}]."
    return f"The following resource(s) failed to {verb}: [{stack.name}]. {failure_reason(error)}."


def _refresh_stack(backend: cfn_models.CloudFormationBackend, stack: cfn_models.Stack) -> None:
    """Make the stack's template, description, outputs and exports those its resource map holds."""
    template = stack.resource_map._template
    stack.template_dict = template
    stack.description = template.get("Description")
    for export in stack.exports:
        backend.exports.pop(export.name, None)
    stack.output_map = stack._create_output_map()
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFoundException"

    def __init__(self, change_set_name: str) -> None:
        super().__init__(f"ChangeSet [{change_set_name}] does not exist")


def _find_change_set(
    backend: cfn_models.CloudFormationBackend, name_or_arn: str, stack_name: str | None
) -> cfn_models.ChangeSet:
    """The change set with this ARN, or with this name on the stack ``stack_name`` (name or id)."""
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    for change_set in backend.change_sets.values():
        on_stack = stack_name is None or stack_name in (change_set.stack_name, change_set.stack_id)
        if change_set.change_set_name == name_or_arn and on_stack:
            return change_set
    raise ChangeSetNotFound(name_or_arn)


def describe_change_set(
    self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> cfn_models.ChangeSet:
    """The change set by ARN, or by name within ``stack_name``; ``ChangeSetNotFoundException`` if none."""
    return _find_change_set(self, change_set_name, stack_name)


def delete_change_set(
    self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    """Delete a change set; deleting one that does not exist succeeds, as in CloudFormation."""
    try:
        change_set = _find_change_set(self, change_set_name, stack_name)
    except ChangeSetNotFound:
        return
    del self.change_sets[change_set.change_set_id]


def _describe_change_set_response(self: cfn_responses.CloudFormationResponse) -> ActionResult:
    backend = self.cloudformation_backend
    return ActionResult(
        describe_change_set(backend, self._get_param("ChangeSetName"), self._get_param("StackName"))
    )


def _delete_change_set_response(self: cfn_responses.CloudFormationResponse) -> EmptyResult:
    delete_change_set(
        self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return EmptyResult()


def _previous_ssm_inputs(stack: cfn_models.Stack, parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` with SSM-typed ones that moto resolved from ``UsePreviousValue`` put back as inputs."""
    slots = stack.template_dict.get("Parameters", {})
    restored = dict(parameters)
    for key, value in parameters.items():
        slot = slots.get(key, {})
        is_ssm = str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::")
        if is_ssm and value == stack.stack_parameters.get(key):
            restored[key] = stack.resource_map.input_parameters.get(key, slot.get("Default"))
    return restored


def _keeping_previous_inputs(create_change_set: Callable[..., Any]) -> Callable[..., Any]:
    """``create_change_set`` keeping previous SSM inputs on UPDATE, and one stack per name on CREATE."""

    @functools.wraps(create_change_set)
    def create(self: cfn_models.CloudFormationBackend, **kwargs: Any) -> Any:
        if kwargs.get("change_set_type") == "UPDATE":
            stack = self.get_stack(kwargs["stack_name"])
            kwargs["parameters"] = _previous_ssm_inputs(stack, kwargs.get("parameters") or {})
            return create_change_set(self, **kwargs)
        existing = next((s for s in self.stacks.values() if s.name == kwargs["stack_name"]), None)
        if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{existing.name}] already exists")
        change_set_id, stack_id = create_change_set(self, **kwargs)
        if existing is None:
            return change_set_id, stack_id
        # A stack still in review (its first change set never ran) takes the new change set.
        del self.stacks[stack_id]
        change_set = self.change_sets[change_set_id]
        change_set.stack, change_set.stack_id = existing, existing.stack_id
        return change_set_id, existing.stack_id

    setattr(create, _WRAPPED, True)
    return create


def execute_change_set(
    self: cfn_models.CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    """moto's ``execute_change_set`` with outputs, resource events and rollback (see module doc)."""
    change_set = _find_change_set(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    for stale in [cs for cs in self.change_sets.values() if cs.stack_id == stack.stack_id]:
        del self.change_sets[stale.change_set_id]
    action = change_set.change_set_type  # CREATE | UPDATE
    previous = (stack.template, stack.resource_map._template, dict(stack.resource_map.input_parameters))
    stack.resource_map.cross_stack_resources = self.exports
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    _set_status(stack, f"{action}_IN_PROGRESS", "User Initiated")
    update: updates.StackUpdate | None = None
    try:
        forward = updates.updating(stack.resource_map) if action == "UPDATE" else nullcontext()
        with recording_events(stack), forward as update:
            change_set.apply()
            if update is not None:
                updates.update_dependents(stack.resource_map, update)
            stack.template = change_set.template
            stack.parameters = change_set.parameters or stack.parameters
            _refresh_stack(self, stack)
    except Exception as error:
        _roll_back(self, stack, action, previous, error, update)
        change_set.execution_status = "EXECUTE_FAILED"
        return
    if update is not None:
        _clean_up(stack, update)
    _set_status(stack, f"{action}_COMPLETE")
    change_set.execution_status = "EXECUTE_COMPLETE"


def _clean_up(stack: cfn_models.Stack, update: updates.StackUpdate) -> None:
    """After a successful update, delete what it replaced or removed, as CloudFormation's cleanup does."""
    if not update.replaced and not update.removed:
        return
    _set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    resource_map = stack.resource_map
    deletions = [
        (logical_id, update.previous_json[logical_id].get("Type", ""), _physical_id(original), delete)
        for logical_id, (original, delete) in update.replaced.items()
    ]
    for logical_id, (resource, resource_json) in update.removed.items():
        resource_map._parsed_resources.pop(logical_id, None)
        deletions.append(
            (
                logical_id,
                resource_json.get("Type", ""),
                _physical_id(resource),
                functools.partial(resource_map._delete_resource, resource, resource_json),
            )
        )
    _delete_recorded(stack, deletions)


def _delete_recorded(
    stack: cfn_models.Stack, deletions: list[tuple[str, str, str, Callable[[], Any]]]
) -> None:
    """Run ``(logical id, type, physical id, delete)`` deletions with events, retrying those that
    wait on another (a group still in use); what never succeeds is recorded ``DELETE_FAILED``."""
    recording = _Recording(stack)
    remaining = deletions
    while remaining:
        failed = []
        for deletion in remaining:
            logical_id, resource_type, physical_id, delete = deletion
            recording.start(logical_id, resource_type, "DELETE", physical_id)
            try:
                delete()
            except Exception as error:
                failed.append((deletion, error))
            else:
                recording.complete(logical_id, resource_type, "DELETE", physical_id)
        if len(failed) == len(remaining):
            for (logical_id, resource_type, physical_id, _), error in failed:
                recording.record(
                    logical_id, resource_type, "DELETE_FAILED", physical_id, failure_reason(error)
                )
            return
        remaining = [deletion for deletion, _ in failed]


def _roll_back(
    backend: cfn_models.CloudFormationBackend,
    stack: cfn_models.Stack,
    action: str,
    previous: tuple[Any, dict[str, Any], dict[str, Any]],
    error: Exception,
    update: updates.StackUpdate | None = None,
) -> None:
    """Undo a failed change set: delete what a new stack created, or return to the previous
    template with the previous physical resources (``update``: what the update replaced and removed)."""
    reason = _failure_summary(error, stack, "create" if action == "CREATE" else "update")
    prefix = "" if action == "CREATE" else "UPDATE_"
    _set_status(stack, f"{prefix}ROLLBACK_IN_PROGRESS", f"{reason} Rollback requested by user.")
    previous_template, previous_template_dict, previous_parameters = previous
    try:
        with recording_events(stack):
            if action == "CREATE":
                stack.resource_map.delete()
            else:
                resource_map = stack.resource_map
                successors = updates.restore_for_rollback(resource_map, update) if update else []
                resource_map.update(previous_template_dict, previous_parameters)
                if update is not None:
                    updates.reapply_dependents(resource_map, update)
                for successor, successor_json in successors:
                    resource_map._delete_resource(successor, successor_json)
                stack.template = previous_template
                _refresh_stack(backend, stack)
    except Exception as rollback_error:
        rollback_reason = _failure_summary(rollback_error, stack, "roll back")
        _set_status(stack, f"{prefix}ROLLBACK_FAILED", f"{reason} {rollback_reason}")
        return
    _set_status(stack, f"{prefix}ROLLBACK_COMPLETE", reason if action == "CREATE" else None)


def delete_stack(self: cfn_models.CloudFormationBackend, name_or_stack_id: str) -> None:
    """moto's ``delete_stack`` with resource events; a stack that cannot be deleted ends DELETE_FAILED."""
    stack = next(
        (s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)),
        None,
    )
    if stack is None:
        return  # CloudFormation answers success for a stack that does not exist
    _set_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
    try:
        with recording_events(stack):
            stack.resource_map.delete()
    except Exception as error:
        _set_status(stack, "DELETE_FAILED", _failure_summary(error, stack, "delete"))
        return
    for export in stack.exports:
        self.exports.pop(export.name, None)
    del self.stacks[stack.stack_id]
    self.deleted_stacks[stack.stack_id] = stack
    _set_status(stack, "DELETE_COMPLETE")


def _held_resources(stack: cfn_models.Stack) -> list[Any]:
    """The stack's resources that exist, in template order (``Stack.stack_resources``)."""
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources
    return [parsed[name] for name in resource_map.resources if parsed.get(name) is not None]


def _record_stack_method(name: str) -> None:
    """Make ``Stack.<name>`` (the create_stack / update_stack paths) record resource events."""
    method = getattr(cfn_models.Stack, name)
    if getattr(method, _WRAPPED, False):
        return

    @functools.wraps(method)
    def recorded(stack: cfn_models.Stack, *args: Any, **kwargs: Any) -> Any:
        with recording_events(stack):
            return method(stack, *args, **kwargs)

    setattr(recorded, _WRAPPED, True)
    setattr(cfn_models.Stack, name, recorded)


def install() -> None:
    """Install the behaviour into moto's CloudFormation (idempotent)."""
    for name, action in (("parse_and_create_resource", "CREATE"), ("parse_and_update_resource", "UPDATE")):
        operation = getattr(cfn_parsing, name)
        if not getattr(operation, _WRAPPED, False):
            setattr(cfn_parsing, name, _with_events(action, operation))
    delete_resource = cfn_parsing.ResourceMap._delete_resource
    if not getattr(delete_resource, _WRAPPED, False):
        cfn_parsing.ResourceMap._delete_resource = _delete_with_events(delete_resource)
    cfn_models.CloudFormationBackend.execute_change_set = execute_change_set
    cfn_models.CloudFormationBackend.describe_change_set = describe_change_set
    if not getattr(cfn_models.CloudFormationBackend.create_change_set, _WRAPPED, False):
        original = cfn_models.CloudFormationBackend.create_change_set
        cfn_models.CloudFormationBackend.create_change_set = _keeping_previous_inputs(original)
    cfn_models.CloudFormationBackend.delete_change_set = delete_change_set
    cfn_responses.CloudFormationResponse.describe_change_set = _describe_change_set_response
    cfn_responses.CloudFormationResponse.delete_change_set = _delete_change_set_response
    cfn_models.CloudFormationBackend.delete_stack = delete_stack
    for method in ("create_resources", "update"):
        _record_stack_method(method)
    cfn_models.Stack.stack_resources = property(_held_resources)
