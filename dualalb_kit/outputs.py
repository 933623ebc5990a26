"""What the kit writes to disk: output folders it may replace, staging beside them, private files.

* An output folder is replaced only when it holds the kit's marker (:data:`MARKER`) for the same
  kind of output, or is empty; anything else is refused (:func:`check_replaceable`), so a
  user's own folder is never deleted.
* Staging folders are named after the process that owns them (``.<name>.staging-<pid>-<random>``);
  those whose process is gone (killed) are removed by the next run (:func:`staging_dir`).
* Files that can hold a spec's values are written with :func:`write_private`: mode 0600 (or the
  source params file's, :func:`private_mode`), never following a symbolic link.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from .assembly import is_cloud_assembly
from .errors import DualAlbKitError, ValidationError

MARKER = ".dualalb-kit-output"
"""The file in every output folder the kit writes; it holds the kind of output (``assembly``)."""
PRIVATE_MODE = 0o600
"""Mode of a file the kit writes with a spec's values when no source file says otherwise."""
_STAGING = re.compile(r"\.(?P<name>.+)\.(?:staging|old)-(?P<pid>\d+)-[^.]+")


def mark(folder: Path, kind: str) -> None:
    """Write the marker saying ``folder`` holds the kit's output of ``kind``."""
    (folder / MARKER).write_text(f"{kind}\n", encoding="utf-8")


def holds_output(folder: Path, kind: str) -> bool:
    """Whether ``folder`` is a folder holding the kit's output of ``kind``: its marker says so, or,
    for an ``assembly``, it is a CDK cloud assembly (also one synthesized before the kit wrote
    markers)."""
    marker = folder / MARKER
    if kind == "assembly" and is_cloud_assembly(folder):
        return True
    try:
        return (
            folder.is_dir() and not marker.is_symlink() and marker.read_text(encoding="utf-8").strip() == kind
        )
    except (OSError, UnicodeDecodeError):
        return False


def check_replaceable(folder: Path, kind: str, field: str) -> None:
    """Refuse (``ValidationError`` on ``field``) to replace ``folder`` unless it is missing, empty,
    or holds the kit's earlier output of ``kind``: nothing the kit did not write is ever deleted."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ValidationError(
            field, f"{folder} exists and is not a folder the kit wrote; nothing was changed"
        )
    if folder.is_dir() and not holds_output(folder, kind) and any(folder.iterdir()):
        raise ValidationError(
            field,
            f"{folder} holds files the kit did not write (no {MARKER} of an earlier {kind}); "
            "pick an empty or new folder, nothing was changed",
        )


def staging_dir(final_dir: Path, field: str) -> Path:
    """A new empty folder (mode 0700) beside ``final_dir``, named after this process, after removing
    the staging folders of ``final_dir`` left by processes that are gone; ``ValidationError`` on
    ``field`` when the parent cannot be written."""
    try:
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(final_dir)
        return Path(
            tempfile.mkdtemp(prefix=f".{final_dir.name}.staging-{os.getpid()}-", dir=final_dir.parent)
        )
    except OSError as exc:
        reason = f"{exc.filename} is not a directory" if isinstance(exc, FileExistsError) else exc.strerror
        raise ValidationError(field, f"{final_dir} cannot be written ({reason})") from None


def remove_stale_staging(final_dir: Path) -> None:
    """Remove the staging and retired folders of ``final_dir`` whose owning process has exited."""
    for entry in final_dir.parent.glob(f".{glob.escape(final_dir.name)}.*-*"):
        match = _STAGING.fullmatch(entry.name)
        if match and match["name"] == final_dir.name and not _alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)


def remove_orphans(folder: Path, prefix: str) -> None:
    """Remove this user's ``<prefix>-<pid>-*`` files and folders in ``folder`` (scratch folders,
    kernel sockets) whose process ``<pid>`` has exited, e.g. a worker killed by Ctrl-C."""
    for entry in folder.glob(f"{glob.escape(prefix)}-*-*"):
        pid = entry.name[len(prefix) + 1 :].split("-", 1)[0]
        try:
            owned = entry.lstat().st_uid == os.getuid()
        except OSError:
            continue
        if pid.isdigit() and owned and not _alive(int(pid)):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def replace_folder(staging: Path, final_dir: Path, kind: str, field: str) -> None:
    """Put the complete output in ``staging`` where ``final_dir`` is, marked as ``kind``; an earlier
    output there is removed only after :func:`check_replaceable` allows it."""
    mark(staging, kind)
    check_replaceable(final_dir, kind, field)
    if final_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.old-{os.getpid()}-", dir=final_dir.parent))
        final_dir.replace(retired / final_dir.name)
        staging.replace(final_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.replace(final_dir)


def private_mode(source: Path | None) -> int:
    """The mode for a file derived from ``source`` (a params file): its read and write bits without
    group or world write, else :data:`PRIVATE_MODE` (no source, or one that cannot be read)."""
    try:
        return stat.S_IMODE(source.stat().st_mode) & 0o644 if source is not None else PRIVATE_MODE
    except OSError:
        return PRIVATE_MODE


def write_private(path: Path, data: str | bytes, mode: int = PRIVATE_MODE) -> None:
    """Write ``data`` to ``path`` with ``mode`` (also when it exists), never through a symbolic link
    at ``path`` (``OSError`` ``ELOOP`` then)."""
    with open_private(path, mode, binary=isinstance(data, bytes)) as file:
        file.write(data)


def open_private(path: Path, mode: int = PRIVATE_MODE, *, binary: bool = False):  # noqa: ANN201
    """``path`` opened for writing (truncated) with ``mode``, not following a symbolic link."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(descriptor, mode)  # an existing file keeps its mode through O_CREAT
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb" if binary else "w", encoding=None if binary else "utf-8")


def private_folder(path: Path) -> Path:
    """``path`` created as a folder of this user's only (0700) when missing; an existing one is kept
    as it is. Returns ``path``."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def user_state_dir() -> Path:
    """The kit's per-user private folder (0700): ``$XDG_STATE_HOME/dualalb-kit``, default
    ``~/.local/state/dualalb-kit``; ``DualAlbKitError`` if it is not this user's own folder."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    folder = base / "dualalb-kit"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise DualAlbKitError(f"{folder} is not a folder of this user's; remove it and run again")
    os.chmod(folder, 0o700)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
