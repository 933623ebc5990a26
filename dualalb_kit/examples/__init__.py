"""The notebooks and params files that ship with the kit, and :func:`write_examples` to copy them out.

In a checkout, ``notebooks/`` and ``params/`` at the top are links to these folders; an installed
kit writes them into a folder of the user's with ``dualalb-kit examples DIR``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import ValidationError

EXAMPLES_DIR = Path(__file__).resolve().parent
PARAMS_DIR = EXAMPLES_DIR / "params"
"""The example params files (``sample.yaml`` and one per pattern option)."""
NOTEBOOKS_DIR = EXAMPLES_DIR / "notebooks"
"""The notebooks, committed without outputs."""
EXAMPLE_FOLDERS = {"params": ("*.yaml", PARAMS_DIR), "notebooks": ("*.ipynb", NOTEBOOKS_DIR)}


def example_files() -> list[tuple[Path, Path]]:
    """Every shipped example as (source, path relative to the destination folder), sorted."""
    return [
        (source, Path(folder) / source.name)
        for folder, (pattern, directory) in EXAMPLE_FOLDERS.items()
        for source in sorted(directory.glob(pattern))
    ]


def write_examples(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the notebooks and params files into ``directory`` (created), as ``notebooks/`` and ``params/``.

    An existing file is kept and the call refuses (ValidationError naming ``directory``) unless
    ``force``; nothing is written then. Returns the written paths.
    """
    destination = Path(directory)
    if destination.exists() and not destination.is_dir():
        raise ValidationError("directory", f"{destination} exists and is not a folder")
    planned = [(source, destination / relative) for source, relative in example_files()]
    existing = [target for _, target in planned if target.exists()]
    if existing and not force:
        raise ValidationError(
            "directory",
            f"{len(existing)} example file(s) already exist in {destination} (first: {existing[0]}); "
            "pass --force to overwrite them",
        )
    try:
        for source, target in planned:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    except OSError as exc:
        raise ValidationError("directory", f"cannot write into {destination}: {exc.strerror}") from None
    return [target for _, target in planned]
