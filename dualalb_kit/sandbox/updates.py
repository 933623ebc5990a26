"""A stack update as CloudFormation runs it: nothing the stack had is deleted before the update
succeeds, so a rollback gets the same physical resources back.

moto updates a stack destructively: it deletes the resources the new template removes first, a
replaced resource is deleted before its successor is created, and resources whose template text
is unchanged are left alone even when what they reference was replaced. After a failed update
its rollback created the removed and replaced resources anew (new ids) while the resources that
referenced them kept the deleted ids. CloudFormation instead

* creates a replacement next to the resource it replaces and deletes the old one, like the
  resources the template removes, in ``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` after success;
* updates every resource whose resolved properties change, including those that only reference
  a replaced resource;
* on a failure, updates the changed resources back, deletes the added ones and the
  replacements, and keeps the originals (same ids, every reference resolving).

:func:`updating` marks a stack update in progress for this request; the models call
:func:`delete_after_update` where they would delete a replaced resource.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import parsing as cfn_parsing


@dataclass
class StackUpdate:
    """One stack update in progress: what waits for its outcome."""

    stack_id: str
    previous_json: dict[str, Any]
    """The previous template's resources (logical id -> resource JSON)."""
    resolved: dict[str, Any]
    """Logical id -> the properties last applied, references resolved."""
    pending: dict[int, Callable[[], None]] = field(default_factory=dict)
    """id(replaced resource) -> its deletion, until the update of its logical id succeeds."""
    replaced: dict[str, tuple[Any, Callable[[], None]]] = field(default_factory=dict)
    """Logical id -> (the replaced resource, its deletion)."""
    removed: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    """Logical id -> (a resource the new template drops, its JSON)."""
    dependents: list[str] = field(default_factory=list)
    """Logical ids updated only because what they reference changed."""


_update: contextvars.ContextVar[StackUpdate | None] = contextvars.ContextVar("dualalb_update", default=None)


@contextmanager
def updating(resource_map: Any) -> Iterator[StackUpdate]:
    """Run the block as the forward part of an update of ``resource_map``'s stack."""
    update = StackUpdate(
        stack_id=resource_map.stack_id,
        previous_json=dict(resource_map._resource_json_map),
        resolved=_resolved_properties(resource_map),
    )
    token = _update.set(update)
    try:
        yield update
    finally:
        _update.reset(token)


def delete_after_update(resource: Any, delete: Callable[[], None]) -> None:
    """Delete a replaced ``resource`` with ``delete`` now, or once the stack update in progress
    succeeds (never, if it rolls back)."""
    update = _update.get()
    if update is None:
        delete()
    else:
        update.pending[id(resource)] = delete


def replaced(logical_id: str, original: Any, successor: Any) -> None:
    """Note that the update of ``logical_id`` replaced ``original`` by ``successor`` (if it did)."""
    update = _update.get()
    if update is not None and successor is not original and id(original) in update.pending:
        update.replaced[logical_id] = (original, update.pending.pop(id(original)))


def defer_removal(resource_map: Any, resource: Any, resource_json: dict[str, Any]) -> bool:
    """During an update of this stack, keep a resource the new template drops until the update
    succeeds; returns whether it was kept (else delete it now)."""
    update = _update.get()
    if update is None or update.stack_id != resource_map.stack_id:
        return False
    update.removed[resource.logical_resource_id] = (resource, resource_json)
    return True


def update_dependents(resource_map: Any, update: StackUpdate) -> None:
    """Update the resources whose template text is unchanged but whose resolved properties changed
    (they reference a replaced resource), until none is left."""
    for _ in range(len(resource_map._resource_json_map)):
        changed = False
        for logical_id, resource_json in resource_map._resource_json_map.items():
            unchanged_text = update.previous_json.get(logical_id) == resource_json
            if not unchanged_text or logical_id not in update.resolved:
                continue
            now = _resolve(resource_json, resource_map)
            if now is None or now == update.resolved[logical_id]:
                continue
            _reapply(resource_map, logical_id, resource_json)
            update.resolved[logical_id] = now
            update.dependents.append(logical_id)
            changed = True
        if not changed:
            return


def restore_for_rollback(resource_map: Any, update: StackUpdate) -> list[tuple[Any, dict[str, Any]]]:
    """Put the replaced and removed resources back in ``resource_map`` with their previous JSON,
    so that updating to the previous template leaves them as they are; returns the replacements
    ``(resource, JSON)`` to delete once the rest is rolled back."""
    resource_map._resource_json_map = dict(resource_map._resource_json_map)
    successors = []
    for logical_id, (original, _) in update.replaced.items():
        successor = resource_map._parsed_resources.get(logical_id)
        if successor is not None:
            successors.append((successor, resource_map._resource_json_map[logical_id]))
        resource_map._parsed_resources[logical_id] = original
        resource_map._resource_json_map[logical_id] = update.previous_json[logical_id]
    for logical_id, (resource, resource_json) in update.removed.items():
        resource_map._parsed_resources[logical_id] = resource
        resource_map._resource_json_map[logical_id] = resource_json
    return successors


def reapply_dependents(resource_map: Any, update: StackUpdate) -> None:
    """Update the resources :func:`update_dependents` changed back to their previous references."""
    for logical_id in update.dependents:
        if logical_id in resource_map._resource_json_map:
            _reapply(resource_map, logical_id, resource_map._resource_json_map[logical_id])


def _reapply(resource_map: Any, logical_id: str, resource_json: dict[str, Any]) -> None:
    resource = cfn_parsing.parse_and_update_resource(
        logical_id,
        resource_json,
        resource_map,
        account_id=resource_map._account_id,
        region_name=resource_map._region_name,
    )
    if resource is not None:
        resource_map._parsed_resources[logical_id] = resource


def _resolved_properties(resource_map: Any) -> dict[str, Any]:
    resolved = {}
    for logical_id, resource_json in resource_map._resource_json_map.items():
        if resource_map._parsed_resources.get(logical_id) is not None:
            properties = _resolve(resource_json, resource_map)
            if properties is not None:
                resolved[logical_id] = properties
    return resolved


def _resolve(resource_json: dict[str, Any], resource_map: Any) -> Any:
    """A resource's properties with references resolved; ``None`` when they do not resolve."""
    try:
        return cfn_parsing.clean_json(resource_json.get("Properties", {}), resource_map)
    except Exception:  # a reference to a resource that is gone or not created by a condition
        return None
