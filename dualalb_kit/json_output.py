"""``--json`` for the command line: one option and one printer, shared by every command."""

from __future__ import annotations

import argparse
import json
from typing import Any


def json_option(command: argparse.ArgumentParser) -> None:
    """``--json``: print the command's tables as one JSON document instead (see :func:`emit`)."""
    command.add_argument(
        "--json", action="store_true", help="print the same data as one JSON document on stdout"
    )


def emit(data: Any, args: argparse.Namespace) -> bool:
    """With ``--json``, print ``data`` (a DataFrame, or a mapping whose values may be DataFrames)
    as JSON on stdout and return True, so the caller prints no tables; else return False.

    DataFrames become lists of records (NaN as null, timestamps as ISO 8601 UTC).
    """
    if not getattr(args, "json", False):
        return False
    print(dumps(data))
    return True


def dumps(data: Any) -> str:
    """``data`` as the JSON document :func:`emit` prints."""
    return json.dumps(_jsonable(data), indent=2, default=str)


def _jsonable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value
