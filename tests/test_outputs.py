"""What the kit writes: it replaces only its own output folders, cleans staging left by killed
runs, says in one line when the disk is full, and writes private files without following links."""

from __future__ import annotations

import errno
import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dualalb_kit import outputs
from dualalb_kit.assembly import ASSEMBLY_FILES
from dualalb_kit.cli import main
from dualalb_kit.errors import ValidationError

ROOT = Path(__file__).resolve().parent.parent
SYNTH = importlib.import_module("dualalb_kit.synth")  # the package exports the function of that name
SAMPLE = ROOT / "params" / "sample.yaml"


def users_folder(folder: Path) -> dict[Path, str]:
    """A folder of the user's own: notes, data and the params file itself."""
    files = {
        folder / "notes.txt": "my notes\n",
        folder / "data" / "measurements.csv": "t,rps\n0,12\n",
        folder / "x.yaml": SAMPLE.read_text(),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def test_synth_refuses_a_folder_of_the_users_in_one_line_and_deletes_nothing(tmp_path, capsys):
    files = users_folder(tmp_path / "mine")
    code = main(
        ["synth", str(tmp_path / "mine" / "x.yaml"), "-o", str(tmp_path / "mine"), "--no-lint", "--no-nag"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: outdir: ")
    assert "nothing was changed" in err
    assert {path: path.read_text() for path in files} == files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no staging folder either


def test_synth_refuses_a_file_where_the_folder_goes(tmp_path, capsys):
    (tmp_path / "out").write_text("keep")
    assert main(["synth", str(SAMPLE), "-o", str(tmp_path / "out"), "--no-lint", "--no-nag"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "keep"


def test_an_earlier_output_of_the_same_kind_is_replaced_and_no_other(tmp_path):
    earlier = tmp_path / "out"
    earlier.mkdir()
    (earlier / "old.json").write_text("{}")
    outputs.mark(earlier, "assembly")
    staging = outputs.staging_dir(earlier, "outdir")
    (staging / "new.json").write_text("{}")
    outputs.replace_folder(staging, earlier, "assembly", "outdir")
    assert sorted(p.name for p in earlier.iterdir()) == [outputs.MARKER, "new.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(ValidationError, match="outdir: .* did not write"):
        outputs.check_replaceable(earlier, "report", "outdir")
    outputs.check_replaceable(tmp_path / "empty", "assembly", "outdir")  # missing: fine
    (tmp_path / "empty").mkdir()
    outputs.check_replaceable(tmp_path / "empty", "assembly", "outdir")  # empty: fine


def test_staging_left_by_a_killed_run_is_removed_by_the_next_and_a_live_ones_kept(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    final = tmp_path / "dualalb-sample"
    killed = tmp_path / f".dualalb-sample.staging-{gone.pid}-x1"
    killed_retired = tmp_path / f".dualalb-sample.old-{gone.pid}-x2"
    running = tmp_path / f".dualalb-sample.staging-{os.getpid()}-x3"
    unrelated = tmp_path / f".other.staging-{gone.pid}-x4"
    for folder in (killed, killed_retired, running, unrelated):
        (folder / "tree.json").parent.mkdir()
        (folder / "tree.json").write_text("{}")
    new = outputs.staging_dir(final, "outdir")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {running.name, unrelated.name, new.name}
    assert stat.S_IMODE(new.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError("Error: ENOSPC: no space left on device, write\n    at Object.writeSync (node:fs:918)"),
    ],
    ids=["python", "jsii"],
)
def test_a_full_disk_during_synth_is_one_line_and_leaves_no_staging(tmp_path, capsys, monkeypatch, failure):
    def full(*args, **kwargs):
        raise failure

    monkeypatch.setattr(SYNTH, "_synth_into", full)
    assert main(["synth", str(SAMPLE), "-o", str(tmp_path / "out"), "--no-lint", "--no-nag"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no space left on the device of ")
    assert list(tmp_path.iterdir()) == []


def test_private_files_get_their_mode_and_never_follow_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("root's file")
    (tmp_path / "log").symlink_to(victim)
    with pytest.raises(OSError) as raised:
        outputs.write_private(tmp_path / "log", "overwritten")
    assert raised.value.errno == errno.ELOOP
    assert victim.read_text() == "root's file"
    existing = tmp_path / "report.html"
    existing.write_text("old")
    existing.chmod(0o644)
    outputs.write_private(existing, "new")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    params = tmp_path / "p.yaml"
    params.write_text("stack_name: x\n")
    params.chmod(0o640)
    assert outputs.private_mode(params) == 0o640
    params.chmod(0o666)
    assert outputs.private_mode(params) == 0o644
    assert outputs.private_mode(None) == 0o600


def test_the_demos_report_and_a_notebooks_summary_are_private(tmp_path):
    from dualalb_kit.report import write_report, write_summary

    write_summary(tmp_path / "summary.json", {"stack_name": "x"})
    report = write_report(tmp_path / "report.html", [], tmp_path)
    assert [stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "summary.json", report)] == [
        0o600,
        0o600,
    ]


def test_the_cdk_cli_log_is_private_never_followed_through_a_link_and_a_folder_there_is_one_line(
    tmp_path, monkeypatch, capsys
):
    from types import SimpleNamespace

    from dualalb_kit import deploy
    from dualalb_kit.errors import DualAlbKitError

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    bootstrap_log = deploy.cli_log_path(None)
    assert bootstrap_log == tmp_path / "state" / "dualalb-kit" / "CDKToolkit.cdk.log"
    assert stat.S_IMODE(bootstrap_log.parent.stat().st_mode) == 0o700
    victim = tmp_path / "victim"
    victim.write_text("root's file")
    bootstrap_log.symlink_to(victim)
    with pytest.raises(
        DualAlbKitError, match="CDKToolkit.cdk.log .a symbolic link.; the CDK CLI did not start"
    ):
        deploy._run_cli(["bootstrap"], None, None, "bootstrap", total=None, progress=False)
    assert victim.read_text() == "root's file"

    assembly = SimpleNamespace(directory=tmp_path / "cdk.out" / "app", stack_name="app")
    (tmp_path / "cdk.out" / "app.cdk.log").mkdir(parents=True)
    with pytest.raises(DualAlbKitError) as raised:
        deploy._run_cli(["deploy"], None, assembly, "deploy", total=None, progress=False)
    assert str(raised.value) == (
        f"cannot write the CDK CLI log {tmp_path}/cdk.out/app.cdk.log (Is a directory); "
        "the CDK CLI did not start"
    )


def test_an_assembly_of_an_earlier_version_without_a_marker_is_replaced(tmp_path):
    """A cloud assembly the kit wrote before it marked its folders (the CDK's own ``cdk.out`` and
    ``manifest.json`` in it) counts as an earlier synthesis; a folder with only one of them does not."""
    earlier = tmp_path / "cdk.out" / "app"
    earlier.mkdir(parents=True)
    for name in ASSEMBLY_FILES:
        (earlier / name).write_text('{"version": "36.0.0"}')
    (earlier / "app.template.json").write_text("{}")
    outputs.check_replaceable(earlier, "assembly", "outdir")
    (earlier / "manifest.json").unlink()
    with pytest.raises(ValidationError, match="did not write"):
        outputs.check_replaceable(earlier, "assembly", "outdir")
