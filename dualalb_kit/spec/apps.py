"""The options of the app patterns (wordpress, laravel): their database, and Laravel's code and listener."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .. import validation
from ..errors import ValidationError
from ..samples import SAMPLE_LARAVEL_DIR
from ..validation import DATABASE_DEFAULTS
from .strict import StrictModel
from .tasks import SAMPLE_IMAGE_PREFIX, AlbSpec

LARAVEL_SAMPLE_CODE = "sample:laravel"
"""``laravel.code: sample:laravel`` builds the bundled Laravel sample (see ``sample_laravel/``)."""

APP_PATTERNS = ("wordpress", "laravel")
"""The patterns of one web app with its database; each has its own section of options."""


class DatabaseOptionsSpec(StrictModel):
    """The database options the wordpress and laravel patterns share. Defaults: provisioned Aurora
    MySQL 3 on ``t4g.medium`` (``database_instance_type``, without ``db.``), 7-day backups, data
    kept on delete: a final snapshot and the secret (``removal_policy: destroy`` deletes them;
    ``retain`` keeps the database running and needs ``vpc: default`` or ``vpc-...``)."""

    aurora_serverless: bool = DATABASE_DEFAULTS["aurora_serverless"]
    single_db_instance: bool = DATABASE_DEFAULTS["single_db_instance"]
    database_instance_type: str | None = DATABASE_DEFAULTS["database_instance_type"]
    backup_retention_days: int = DATABASE_DEFAULTS["backup_retention_days"]
    serverless_min_capacity: float = DATABASE_DEFAULTS["serverless_min_capacity"]
    serverless_max_capacity: float = DATABASE_DEFAULTS["serverless_max_capacity"]
    removal_policy: Literal["retain", "snapshot", "destroy"] | None = None

    @model_validator(mode="after")
    def _database_rules(self) -> DatabaseOptionsSpec:
        validation.check_database("", dict(self))
        return self


class WordPressSpec(DatabaseOptionsSpec):
    """Options of the WordPress pattern: its database (see :class:`DatabaseOptionsSpec`)."""


class LaravelSpec(DatabaseOptionsSpec):
    """Options of the Laravel pattern: the app's ``code`` (a directory with a Dockerfile; a relative
    path is relative to the params file, else to the working directory; ``sample:laravel`` is the
    bundled sample), its ``loadbalancer`` listener (default port 80), ``container_port`` (default
    80), ``efs_file_system`` (files on EFS under ``storage/app``, default off),
    ``default_database_name`` (default ``laravel``), and the database (see :class:`DatabaseOptionsSpec`)."""

    code: str
    loadbalancer: AlbSpec = Field(default_factory=lambda: AlbSpec(port=80))
    container_port: int = 80
    efs_file_system: bool = False
    default_database_name: str = "laravel"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if value.startswith(SAMPLE_IMAGE_PREFIX):
            if value != LARAVEL_SAMPLE_CODE:
                raise ValidationError(
                    "", f"{value!r} is not a sample (the bundled one: {LARAVEL_SAMPLE_CODE})"
                )
            return value
        path = Path(value).expanduser()
        validation.check_code_directory("", path.absolute())
        return str(path.resolve())

    @model_validator(mode="after")
    def _ports(self) -> LaravelSpec:
        validation.check_port("loadbalancer.port", self.loadbalancer.port)
        validation.check_port("container_port", self.container_port)
        validation.check_database_name("default_database_name", self.default_database_name)
        return self

    @property
    def code_directory(self) -> Path:
        """The directory the image is built from (``sample:laravel``: the bundled sample)."""
        return SAMPLE_LARAVEL_DIR if self.code == LARAVEL_SAMPLE_CODE else Path(self.code)
