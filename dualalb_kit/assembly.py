"""The one reader of a cloud assembly's ``manifest.json``: its stack, template, environment,
metadata and missing context. No CDK import, no AWS call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ValidationError

STACK_ARTIFACT = "aws:cloudformation:stack"


@dataclass(frozen=True)
class Assembly:
    """A synthesized cloud assembly holding one stack.

    ``artifact_id`` selects the stack in CDK CLI commands; ``stack_name`` is its CloudFormation
    name. ``account`` and ``region`` come from the stack's environment (``None`` where it is
    environment-agnostic). ``missing`` lists the context lookups synthesis could not answer
    (``{key, provider, props}`` entries); ``metadata`` maps construct paths to their metadata
    entries (``{type, data}``).
    """

    directory: Path
    artifact_id: str
    stack_name: str
    template: dict[str, Any]
    template_path: Path
    account: str | None
    region: str | None
    missing: list[dict[str, Any]]
    metadata: dict[str, list[dict[str, Any]]]

    def entries(self, kind: str) -> list[tuple[str, Any]]:
        """``(construct path, data)`` of the metadata entries of one ``kind`` (``aws:cdk:warning``, ...)."""
        return [
            (path, entry["data"])
            for path, entries in self.metadata.items()
            for entry in entries
            if entry["type"] == kind
        ]


ASSEMBLY_FILES = ("cdk.out", "manifest.json")
"""The files the CDK writes into every cloud assembly."""


def is_cloud_assembly(directory: Path) -> bool:
    """Whether ``directory`` holds a cloud assembly (the CDK's :data:`ASSEMBLY_FILES`)."""
    return directory.is_dir() and all((directory / name).is_file() for name in ASSEMBLY_FILES)


def read_assembly(directory: str | Path) -> Assembly:
    """The one-stack assembly in ``directory``.

    Raises ``ValidationError("assembly", ...)`` when the directory holds no ``manifest.json`` or
    not exactly one stack.
    """
    directory = Path(directory).resolve()
    manifest_path = directory / ASSEMBLY_FILES[1]
    if not manifest_path.exists():
        raise ValidationError("assembly", f"{directory} is not a cloud assembly (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    stacks = {name: a for name, a in manifest.get("artifacts", {}).items() if a.get("type") == STACK_ARTIFACT}
    if len(stacks) != 1:
        raise ValidationError(
            "assembly", f"{directory} holds {len(stacks)} stacks ({', '.join(stacks)}); expected one"
        )
    ((artifact_id, artifact),) = stacks.items()
    account, region = environment_parts(artifact.get("environment", ""))
    properties = artifact.get("properties", {})
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((directory / artifact["additionalMetadataFile"]).read_text()))
    return Assembly(
        directory=directory,
        artifact_id=artifact_id,
        stack_name=properties.get("stackName", artifact_id),
        template=json.loads((directory / properties["templateFile"]).read_text()),
        template_path=directory / properties["templateFile"],
        account=account,
        region=region,
        missing=list(manifest.get("missing", [])),
        metadata=metadata,
    )


def environment_parts(environment: str) -> tuple[str | None, str | None]:
    """``aws://ACCOUNT/REGION`` -> (account, region), ``None`` for ``unknown-*`` parts."""
    account, _, region = environment.removeprefix("aws://").partition("/")
    return (
        None if not account or account.startswith("unknown-") else account,
        None if not region or region.startswith("unknown-") else region,
    )
