"""What the gap-fill models share: the CloudFormation plumbing, registration with moto's model
map, and property conversion."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any, ClassVar

from botocore import xform_name
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.utils import pascal_to_camelcase, remap_nested_keys
from moto.secretsmanager.models import secretsmanager_backends

from .. import updates

Properties = dict[str, Any]
"""A resource's ``Properties`` from the template, references resolved."""

_DYNAMIC_SECRET = re.compile(
    r"\{\{resolve:secretsmanager:(?P<secret>.+?)(?::SecretString(?::(?P<key>[^:}]*))?(?::[^}]*)?)?\}\}"
)


def refresh_model_map() -> None:
    """Make moto rebuild its CloudFormation type -> model map (it caches the first build).

    moto collects ``CloudFormationModel.__subclasses__()``; a gap-fill model lists
    ``CloudFormationModel`` among its direct bases, and because it is defined after moto's
    own model for the same type, it wins in the map.
    """
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


class GapFillModel:
    """Create and update plumbing of a CloudFormation model; list it before ``CloudFormationModel``.

    moto maps only the direct subclasses of ``CloudFormationModel``, so every model names that
    class among its bases after this one. A model states how it creates (``create``, default: as
    ``moto_model`` does), whether an update replaces it (``replaced_on_update``, default: always)
    and how it updates in place (``update_in_place``, default: ``create`` again over it, as the
    backends' puts overwrite).
    """

    replaced_side_by_side: ClassVar[bool] = True
    """Whether a replacement is created next to the original, which a stack update deletes only
    once it succeeded (CloudFormation's order, so a rollback keeps the original). ``False`` for
    resources keyed by what they attach to (a route, a rule, an association): the original is
    deleted first and a rollback makes it again, with the same id."""

    moto_model: ClassVar[Any] = None
    """moto's own model of the type, when the default ``create`` is moto's creation (default: none)."""

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        return cls.create(resource_name, cloudformation_json["Properties"], account_id, region_name)

    @classmethod
    def create(cls, resource_name: str, properties: Properties, account_id: str, region_name: str) -> Any:
        """The resource made through moto's backend from the template's properties (default: as
        moto's own model ``moto_model`` creates it)."""
        if cls.moto_model is None:
            raise NotImplementedError(f"{cls.__name__} does not define create")
        return moto_create(cls.moto_model, resource_name, properties, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        if cls.replaced_on_update(original_resource, new_resource_name, properties):
            if not cls.replaced_side_by_side:
                cls.delete_replaced(original_resource, account_id, region_name)
                return cls.create_from_cloudformation_json(
                    new_resource_name, cloudformation_json, account_id, region_name
                )
            # As CloudFormation: the successor first; the original goes once the update succeeded.
            successor = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            updates.delete_after_update(
                original_resource,
                functools.partial(cls.delete_replaced, original_resource, account_id, region_name),
            )
            return successor
        return cls.update_in_place(original_resource, new_resource_name, properties, account_id, region_name)

    @classmethod
    def replaced_on_update(cls, original: Any, resource_name: str, properties: Properties) -> bool:
        """Whether the update deletes ``original`` and creates the resource anew (default: yes)."""
        return True

    @classmethod
    def renamed(cls, current_name: str, resource_name: str, properties: Properties) -> bool:
        """Whether an update renames the resource: only a name the template sets can change.

        Without the name property moto generates a new random ``resource_name`` for every
        update, where CloudFormation keeps the name it generated at creation.
        """
        return cls.cloudformation_name_type() in properties and resource_name != current_name  # type: ignore[attr-defined]

    @classmethod
    def update_in_place(
        cls, original: Any, resource_name: str, properties: Properties, account_id: str, region_name: str
    ) -> Any:
        """The resource updated without replacing it (default: ``create`` again over it)."""
        return cls.create(resource_name, properties, account_id, region_name)

    @classmethod
    def delete_replaced(cls, original: Any, account_id: str, region_name: str) -> None:
        """Delete a replaced resource as moto's stack deletion does: its ``delete``, else the
        model's ``delete_from_cloudformation_json`` with its physical id."""
        if hasattr(original, "delete"):
            original.delete(account_id, region_name)
        else:
            cls.delete_from_cloudformation_json(  # type: ignore[attr-defined]
                original.physical_resource_id, {}, account_id, region_name
            )


class StandaloneModel(GapFillModel):
    """A model of its own (not a subclass of moto's): its type, name property and ``Fn::GetAtt``
    attributes are class data.

    ``cfn_attributes`` maps each attribute name to a function of the model (default: none);
    ``name_property`` is the property that names the resource (default: none); ``id_attribute``
    names the attribute, dotted (``resource.arn``), that holds the physical id (a model that
    composes its id defines ``physical_resource_id`` instead).
    """

    cfn_type: ClassVar[str]
    name_property: ClassVar[str] = ""
    cfn_attributes: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    id_attribute: ClassVar[str]

    @property
    def physical_resource_id(self) -> str:
        return attrgetter(self.id_attribute)(self)

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.cfn_type

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.name_property

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.cfn_attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.cfn_attributes:
            raise UnformattedGetAttTemplateException()
        return self.cfn_attributes[attribute_name](self)

    def is_created(self) -> bool:
        return True


class KeyedModel(StandaloneModel):
    """A model whose one piece of state is its physical id, ``key``: the name or id of what it was
    put on (a bucket policy's bucket) or of what it made (an association). Being keyed by it, an
    update that replaces it deletes the original first (``replaced_side_by_side`` is False)."""

    replaced_side_by_side = False
    id_attribute = "key"

    def __init__(self, key: str) -> None:
        self.key = key


class BackendHandle(StandaloneModel):
    """A model that stands for one object (``resource``) in a moto backend; the state stays there.

    ``backends`` is moto's per-account, per-region backend dict of the service.
    """

    backends: ClassVar[Any]

    def __init__(self, resource: Any, account_id: str, region_name: str) -> None:
        self.resource = resource
        self.account_id = account_id
        self.region_name = region_name

    @property
    def backend(self) -> Any:
        return self.backends[self.account_id][self.region_name]


def moto_create(
    model: Any, resource_name: str, properties: Properties, account_id: str, region_name: str
) -> Any:
    """The resource as moto's own CloudFormation ``model`` creates it."""
    return model.create_from_cloudformation_json(
        resource_name, {"Properties": properties}, account_id, region_name
    )


API_KEY_NAMES = {
    "EFSVolumeConfiguration": "efsVolumeConfiguration",
    "FilesystemId": "fileSystemId",
    "IAM": "iam",
}
"""CloudFormation keys whose JSON-API name is not their plain camelCase (ECS volumes)."""


def camel_keys(value: Any) -> Any:
    """A CloudFormation property tree with its keys in the camelCase of the JSON APIs (ECS)."""
    return remap_nested_keys(value, lambda key: API_KEY_NAMES.get(key) or pascal_to_camelcase(key))


def snake_kwargs(properties: dict[str, Any], renames: dict[str, str] | None = None) -> dict[str, Any]:
    """Top-level CloudFormation properties as the snake_case keyword arguments of a moto backend."""
    renames = renames or {}
    return {renames.get(key, xform_name(key)): value for key, value in properties.items()}


def tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """CloudFormation ``Tags`` (``[{Key, Value}]``) as a plain mapping."""
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}


def resolve_secret_references(value: Any, account_id: str, region_name: str) -> Any:
    """Resolve ``{{resolve:secretsmanager:...}}`` dynamic references the way CloudFormation does.

    moto's CloudFormation passes them through verbatim; RDS then reports a master user name
    like ``{{resolve:...}}``. Strings without a reference come back unchanged.
    """
    if not isinstance(value, str) or "{{resolve:secretsmanager:" not in value:
        return value
    backend = secretsmanager_backends[account_id][region_name]

    def lookup(match: re.Match[str]) -> str:
        text = backend.get_secret_value(match["secret"], version_id=None, version_stage=None)["SecretString"]
        return str(json.loads(text)[match["key"]]) if match["key"] else text

    return _DYNAMIC_SECRET.sub(lookup, value)
