"""The database of WordPress and Laravel (the ``Database`` construct) and Laravel's code directory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ValidationError

SERVERLESS_CAPACITY_ACU = (0.0, 256.0)
"""Aurora Serverless v2 capacity range in ACUs, in steps of 0.5 (0 pauses an idle writer)."""

BACKUP_RETENTION_DAYS = (1, 35)
"""RDS's range for automated backups, in days."""

RETAINED_DATABASE_IN_NEW_VPC = (
    "retain keeps the database running in the VPC the stack creates, so deleting the stack would "
    "fail on its subnets; keep a final snapshot (the default) or use an existing VPC"
)

_DATABASE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

_DB_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")

DATABASE_DEFAULTS: Mapping[str, Any] = {
    "aurora_serverless": False,
    "single_db_instance": False,
    "database_instance_type": None,
    "backup_retention_days": 7,
    "serverless_min_capacity": 0.5,
    "serverless_max_capacity": 4,
    "database_name": None,
}
"""The database values :func:`check_database` reads, with the defaults it assumes for missing ones."""


def check_database(prefix: str, values: Mapping[str, Any], names: Mapping[str, str] | None = None) -> None:
    """One database as the spec, ``Database``, ``WordPress`` and ``Laravel`` all check it: one
    variant (Aurora provisioned, Aurora Serverless v2, or one instance), its capacity range,
    instance class, backup retention and database name.

    ``values`` has the keys of :data:`DATABASE_DEFAULTS` (others are ignored):
    ``database_instance_type`` is the class as given (``t4g.medium``; ``None``: the default),
    ``backup_retention_days`` may be fractional (a Duration of hours), ``database_name`` ``None``
    is not checked. ``prefix`` is the options' path (``laravel``); ``names`` maps a key to the
    caller's field name where they differ (``{"backup_retention_days": "backup_retention"}``).
    """
    rules = {**DATABASE_DEFAULTS, **{key: values[key] for key in DATABASE_DEFAULTS if key in values}}

    def field(key: str) -> str:
        name = (names or {}).get(key, key)
        return f"{prefix}.{name}" if prefix else name

    if rules["aurora_serverless"] and rules["single_db_instance"]:
        raise ValidationError(
            field("single_db_instance"), "cannot be combined with aurora_serverless; choose one"
        )
    if rules["database_instance_type"] is not None:
        if rules["aurora_serverless"]:
            raise ValidationError(
                field("database_instance_type"),
                "a Serverless v2 writer is db.serverless; set capacities instead",
            )
        check_db_instance_type(field("database_instance_type"), rules["database_instance_type"])
    low, high = SERVERLESS_CAPACITY_ACU
    fewest, most = rules["serverless_min_capacity"], rules["serverless_max_capacity"]
    for key, value in (("serverless_min_capacity", fewest), ("serverless_max_capacity", most)):
        if not low <= value <= high or value * 2 != int(value * 2):
            raise ValidationError(
                field(key), f"{value:g} is not an ACU count ({low:g}-{high:g} in steps of 0.5)"
            )
    if most < 1:
        raise ValidationError(field("serverless_max_capacity"), f"{most:g} is below 1 ACU")
    if fewest > most:
        raise ValidationError(
            field("serverless_min_capacity"), f"{fewest:g} is above serverless_max_capacity ({most:g})"
        )
    days, (shortest, longest) = rules["backup_retention_days"], BACKUP_RETENTION_DAYS
    if days != int(days) or not shortest <= days <= longest:
        raise ValidationError(
            field("backup_retention_days"),
            f"{days:g} days is not a whole number of days in {shortest}-{longest}",
        )
    if rules["database_name"] is not None:
        check_database_name(field("database_name"), rules["database_name"])


def check_db_instance_type(field: str, instance_type: str) -> None:
    """An RDS instance class without its ``db.`` prefix (``t4g.medium``, ``r6g.large``)."""
    if instance_type.startswith("db."):
        raise ValidationError(
            field, f"{instance_type!r}: give the class without 'db.' ({instance_type[3:]!r})"
        )
    if not _DB_INSTANCE_TYPE.fullmatch(instance_type):
        raise ValidationError(field, f"{instance_type!r} is not an instance class such as t4g.medium")


def check_database_name(field: str, name: str) -> None:
    """MySQL's database name as RDS creates it: a letter, then letters, digits or _, at most 64."""
    if not _DATABASE_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not a database name (a letter, then letters, digits or _, at most 64)"
        )


def check_code_directory(field: str, code: str | os.PathLike[str]) -> None:
    """A container image's build context: a directory holding a ``Dockerfile``."""
    path = Path(code)
    if not path.is_dir():
        raise ValidationError(field, f"{str(code)!r} is not a directory")
    if not (path / "Dockerfile").is_file():
        raise ValidationError(field, f"{str(code)!r} has no Dockerfile")
