"""Papermill batch runs on a small notebook: parallel runs, per-run files, failures kept apart."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import stop_tree
from nbformat.v4 import new_code_cell, new_notebook

from dualalb_kit import batch, cli
from dualalb_kit.sandbox.server import free_port

SAMPLE = Path(__file__).parents[1] / "params" / "sample.yaml"


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    """Reads its spec parameters, fails on ``fail_on`` and writes ``stack_outputs`` to ``results_path``."""
    parameters = new_code_cell(
        'stack_name = "x"\nspot = False\ntasks = []\nresults_path = None\nfail_on = None'
    )
    parameters.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json\n"
        "if stack_name == fail_on:\n"
        "    raise RuntimeError(f'{stack_name} was told to fail')\n"
        "outputs = {'Services': ','.join(task['name'] for task in tasks), 'Spot': str(spot)}\n"
        "json.dump({'stack_outputs': outputs}, open(results_path, 'w'))\n"
        "print('password' not in outputs)"
    )
    notebook = new_notebook(cells=[parameters, body])
    notebook.metadata["kernelspec"] = {
        "name": batch.KERNEL_NAME,
        "display_name": "dualalb-kit",
        "language": "python",
    }
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    return path


def _params(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_runs_every_params_file_and_one_failure_does_not_stop_the_others(tmp_path, notebook):
    failing = _params(tmp_path, "failing", SAMPLE.read_text().replace("dualalb-sample", "boom"))
    broken = _params(
        tmp_path, "broken", "stack_name: broken\ntasks: [{name: web, image: nginx, internal: {port: 0}}]\n"
    )
    started = time.monotonic()
    summary = batch.run_batch(
        [SAMPLE, failing, broken],
        notebook=notebook,
        workers=2,
        out_dir=tmp_path / "out",
        parameters={"fail_on": "boom"},
    )
    elapsed = time.monotonic() - started
    assert list(summary.columns) == batch.SUMMARY_COLUMNS
    rows = summary.set_index("params")
    assert rows["status"].to_dict() == {str(SAMPLE): "passed", str(failing): "failed", str(broken): "invalid"}
    assert rows.loc[str(SAMPLE), "result"] == "Services=order,customer,product; Spot=True"
    assert rows.loc[str(failing), "result"] == "RuntimeError: boom was told to fail"
    assert rows.loc[str(broken), "result"] == "tasks[0].internal.port: 0 is not a port (1-65535)"
    assert pd.isna(rows.loc[str(broken), "executed"])

    run_dir = tmp_path / "out" / "tiny"
    for name in ("sample", "failing"):
        executed = nbformat.read(run_dir / f"{name}.ipynb", as_version=4)
        assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
        assert "<html" in (run_dir / f"{name}.html").read_text()[:500].lower()
    assert "was told to fail" in (run_dir / "failing.html").read_text()
    assert json.loads((run_dir / "sample.json").read_text())["stack_outputs"]["Spot"] == "True"
    assert not (run_dir / "failing.json").exists() and not (run_dir / "broken.ipynb").exists()
    # an executed run takes its kernel's start at least (>= 0.1 s, the rounding), a rejected one no time
    assert all(0.1 <= rows.loc[str(p), "duration_s"] <= elapsed for p in (SAMPLE, failing))
    assert rows.loc[str(broken), "duration_s"] == 0.0


def test_the_cli_prints_the_summary_and_exits_1_when_a_run_fails(tmp_path, notebook, capsys):
    missing = tmp_path / "missing.yaml"
    code = batch.main(
        [str(SAMPLE), str(missing), "--notebook", str(notebook), "--jobs", "1", "-o", str(tmp_path)]
    )
    printed = capsys.readouterr().out
    assert code == 1
    assert "passed" in printed and "invalid" in printed and f"{missing} does not exist" in printed
    assert f"{tmp_path / 'tiny'}/" in printed


def test_the_cli_exits_0_when_all_pass_and_2_on_bad_usage(tmp_path, notebook, capsys):
    assert (
        batch.main([str(SAMPLE), "--notebook", str(notebook), "-o", str(tmp_path), "--set", "spot=false"])
        == 0
    )
    assert json.loads((tmp_path / "tiny" / "sample.json").read_text())["stack_outputs"]["Spot"] == "True"
    assert batch.main([str(SAMPLE), "--notebook", str(tmp_path / "nope.ipynb")]) == 2
    assert batch.main([str(SAMPLE), "--notebook", str(notebook), "--jobs", "0"]) == 2
    assert batch.main([str(SAMPLE), "--notebook", str(notebook), "--set", "novalue"]) == 2
    assert "is not KEY=VALUE" in capsys.readouterr().err


def test_the_kernel_spec_is_installed():
    from jupyter_client.kernelspec import KernelSpecManager

    assert batch.ensure_kernel() == "dualalb-kit"
    spec = KernelSpecManager().get_kernel_spec("dualalb-kit")
    assert Path(spec.argv[0]).parent == Path(sys.executable).parent
    assert spec.argv[spec.argv.index("-m") + 1] == "dualalb_kit.kernel_app"
    assert spec.interrupt_mode == "message"


@contextlib.contextmanager
def kit_kernel(tmp_path, **environment):
    """The kit's kernel on IPC sockets under ``tmp_path``, with ``environment`` added to its own;
    yields (manager, ready client); shut down at once at the end unless the test did."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name=batch.ensure_kernel(), transport="ipc", ip=str(tmp_path / "kernel"))
    manager.start_kernel(env={**os.environ, **environment})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield manager, client
    finally:
        client.stop_channels()
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)


def run_cell(client, code: str) -> tuple[dict, list[str]]:
    """Execute ``code``; returns its reply's content and the text it printed."""
    printed = []
    reply = client.execute_interactive(
        code,
        timeout=120,
        output_hook=lambda message: (
            printed.append(message["content"]["text"]) if message["msg_type"] == "stream" else None
        ),
    )
    return reply["content"], printed


def test_the_kernel_publishes_every_message_of_a_burst_to_a_slow_reader(tmp_path):
    """A burst larger than ZeroMQ's high-water marks (1,000 messages a side) reaches a client
    that reads nothing until the cell is over: the kit's kernel queues instead of dropping."""
    burst = 5_000
    with kit_kernel(tmp_path) as (_, client):
        msg_id = client.execute(f"from IPython.display import display\nfor i in range({burst}): display(i)")
        client.get_shell_msg(timeout=60)  # the reply: the whole burst has been published
        time.sleep(2)  # and is queued somewhere between kernel and client
        displayed, state = 0, "busy"
        with contextlib.suppress(queue.Empty):  # nothing more came: the rest was dropped
            while state != "idle":
                message = client.get_iopub_msg(timeout=10)
                if message["parent_header"].get("msg_id") == msg_id:
                    displayed += message["msg_type"] == "display_data"
                    state = message["content"].get("execution_state", state)
    assert (displayed, state) == (burst, "idle")


def test_an_interrupt_stops_the_cell_and_leaves_the_cdk_working(tmp_path):
    """JupyterLab's stop button: the running cell ends with KeyboardInterrupt, and jsii's Node
    process (which a process-group SIGINT used to kill: "Broken pipe" on every later CDK call)
    still answers."""
    with kit_kernel(tmp_path) as (manager, client):
        assert run_cell(client, "import dualalb_kit, aws_cdk; aws_cdk.App()")[0]["status"] == "ok"
        msg_id = client.execute("import time; time.sleep(60)")
        time.sleep(1)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        assert (reply["parent_header"]["msg_id"], reply["content"]["ename"]) == (msg_id, "KeyboardInterrupt")
        # ipykernel aborts requests that reach it while it still handles the interrupt's error
        # (a busy machine makes that window longer): poll until a cell is run, then ask the CDK.
        for _ in range(20):
            if run_cell(client, "pass")[0]["status"] != "aborted":
                break
        content, printed = run_cell(client, "print(aws_cdk.Stack(aws_cdk.App(), 'After').stack_name)")
    assert (content["status"], printed) == ("ok", ["After\n"])


def test_a_graceful_shutdown_leaves_no_jsii_folder_behind(tmp_path):
    """As papermill ends a run: jsii's runtime folder and Node's package folder are removed."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with kit_kernel(tmp_path, TMPDIR=str(temporary)) as (manager, client):
        assert run_cell(client, "import dualalb_kit, aws_cdk")[0]["status"] == "ok"  # jsii's Node starts
        node_folder, runtime_folder = sorted(path.name for path in temporary.iterdir())
        assert node_folder.startswith("jsii-kernel-") and runtime_folder.startswith("tmp")
        manager.shutdown_kernel(now=False)
    assert list(temporary.iterdir()) == []


def test_the_summary_shows_outputs_or_else_the_runs_plain_values():
    from dualalb_kit.batch import summarize_results

    deployed = {"stack_outputs": {"B": "http://b", "A": "http://a"}, "destroyed": False}
    assert summarize_results(deployed) == "A=http://a; B=http://b"
    assert summarize_results({"outputs": ["ExternalEndpoint", "InternalEndpoint"]}) == (
        "ExternalEndpoint, InternalEndpoint"
    )
    analysed = {"figures": ["load.png"], "recommended": {"max_capacity": 4}, "destroyed": True}
    assert summarize_results(analysed) == "recommended={'max_capacity': 4}; destroyed=True"


@pytest.fixture
def external_cluster(tmp_path_factory):
    """A ``dask scheduler`` and two ``dask worker`` processes on loopback, working in a folder of
    their own (as on other machines); yields (address, workers)."""
    from distributed import Client

    elsewhere = tmp_path_factory.mktemp("workers-cwd")
    dask = Path(sys.executable).with_name("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    processes = [
        subprocess.Popen([dask, "scheduler", *common, "--port", address.rsplit(":", 1)[1]]),
        *(
            subprocess.Popen(
                [dask, "worker", address, *common, "--nthreads", "1", "--name", name], cwd=elsewhere
            )
            for name in ("w1", "w2")
        ),
    ]
    try:
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            workers = set(client.scheduler_info(n_workers=-1)["workers"])
        yield address, workers
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_the_cli_runs_every_params_file_on_the_clusters_workers(
    tmp_path, notebook, external_cluster, capsys, monkeypatch
):
    address, workers = external_cluster
    other = _params(tmp_path, "other", SAMPLE.read_text().replace("dualalb-sample", "other"))
    monkeypatch.chdir(tmp_path)  # -o is relative to the caller's folder, not the workers'
    out = Path("b")
    code = cli.main(
        [
            "batch",
            str(SAMPLE),
            str(other),
            "--notebook",
            str(notebook),
            "--scheduler",
            address,
            "-o",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert len(workers) == 2
    for worker in workers:
        assert worker.startswith("tcp://127.0.0.1:")
    assert sorted((tmp_path / out / "tiny").iterdir()) == [
        tmp_path / out / "tiny" / f"{name}{suffix}"
        for name in ("other", "sample")
        for suffix in (".html", ".ipynb", ".json")
    ]
    rows = [line.split() for line in printed.splitlines()[1:3]]
    assert [row[:2] for row in rows] == [[str(SAMPLE), "passed"], [str(other), "passed"]]
    assert {row[3] for row in rows} <= workers


def test_a_batch_on_a_clusters_workers_leaves_none_of_its_kernels_running(
    tmp_path, notebook, external_cluster
):
    """Warm kernels on workers that outlive the batch: the kernels started ahead are stopped when
    the batch's runs are in, on each worker."""
    import psutil
    from distributed import Client

    address, _ = external_cluster
    params = [_params(tmp_path, f"copy{index}", SAMPLE.read_text()) for index in range(5)]
    with Client(address) as client:
        summary = batch.run_batch(
            params, notebook=notebook, out_dir=tmp_path / "out", client=client, progress=False
        )
        assert (summary["status"] == "passed").all(), summary

    def launched_by_the_cluster(process: psutil.Process) -> bool:
        with contextlib.suppress(psutil.Error):
            return any(address in " ".join(parent.cmdline()) for parent in process.parents())
        return False

    kernels = [
        process
        for process in psutil.process_iter(["cmdline"])
        if "dualalb_kit.kernel_app" in (process.info["cmdline"] or []) and launched_by_the_cluster(process)
    ]
    assert kernels == []


def test_the_default_local_cluster_runs_on_loopback_workers(tmp_path, notebook):
    summary = batch.run_batch([SAMPLE], notebook=notebook, workers=1, out_dir=str(tmp_path), progress=False)
    row = summary.iloc[0]
    assert row["status"] == "passed"
    assert row["worker"].startswith("tcp://127.0.0.1:")
    assert row["executed"] == f"{tmp_path}/tiny/sample.ipynb"


def test_outputs_go_to_the_sandboxs_s3_bucket(tmp_path, notebook, sandbox):
    import boto3

    credentials = sandbox.environment
    s3 = boto3.client(
        "s3",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )
    s3.create_bucket(Bucket="batch-out")
    broken = _params(tmp_path, "broken", "stack_name: broken\ntasks: [{name: web, image: nginx, cpu: 3}]\n")
    code = batch.main(
        [str(SAMPLE), str(broken), "--notebook", str(notebook), "--workers", "1"]
        + ["-o", "s3://batch-out/runs", "--endpoint-url", sandbox.endpoint_url]
    )
    assert code == 1  # the broken file is invalid; the sample ran and wrote to the bucket
    listed = s3.list_objects_v2(Bucket="batch-out")["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        "runs/tiny/sample.html",
        "runs/tiny/sample.ipynb",
        "runs/tiny/sample.json",
    ]
    executed = nbformat.reads(
        s3.get_object(Bucket="batch-out", Key="runs/tiny/sample.ipynb")["Body"].read(), 4
    )
    assert any("injected-parameters" in cell.metadata.get("tags", []) for cell in executed.cells)
    results = json.loads(s3.get_object(Bucket="batch-out", Key="runs/tiny/sample.json")["Body"].read())
    assert results == {"stack_outputs": {"Services": "order,customer,product", "Spot": "True"}}


@pytest.mark.slow
def test_ctrl_c_cancels_the_runs_not_finished_and_says_so(tmp_path, notebook):
    slow = nbformat.read(notebook, as_version=4)
    slow.cells.insert(1, new_code_cell("import time\ntime.sleep(600)"))
    nbformat.write(slow, tmp_path / "slow.ipynb")
    params = [str(_params(tmp_path, f"p{index}", SAMPLE.read_text())) for index in range(3)]
    command = [Path(sys.executable).with_name("dualalb-kit"), "batch", *params, "--workers", "1"]
    scratch = Path(tempfile.mkdtemp(prefix="ctrl-c-"))  # short: kernel socket paths live here
    # Output to a file, not a pipe: what the batch says stays readable whatever its children hold.
    with (tmp_path / "stderr.txt").open("w+") as stderr:
        process = subprocess.Popen(
            [*command, "--notebook", str(tmp_path / "slow.ipynb"), "-o", str(tmp_path / "out")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env={**os.environ, "TMPDIR": str(scratch)},
        )
        try:
            for _ in range(600):  # the first run has started once its worker made its scratch folder
                if process.poll() is not None or any(scratch.glob("dualalb-run-*")):
                    break
                time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
            left = sorted(path.name for path in scratch.iterdir())  # scratch folders, kernel sockets
        finally:
            stop_tree(process)
            shutil.rmtree(scratch, ignore_errors=True)
            stderr.seek(0)
            err = stderr.read()
    assert process.returncode == 130, err[-3000:]
    assert "interrupted: cancelled 3 of 3 runs that had not finished" in err
    assert [name for name in left if name.startswith(("dualalb-run-", "dualalb-kernel-"))] == []


def test_runs_keep_credentials_out_of_their_files_which_are_private_and_never_overwrite_each_other(tmp_path):
    """Two params files named alike in two folders, one 0600 with a password in a task's
    environment; the notebook has no kernelspec metadata and shows the tasks as text and in a widget."""
    parameters = new_code_cell("stack_name = 'x'\ntasks = []\nresults_path = None")
    parameters.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json, ipywidgets\n"
        "print(tasks)\n"
        "display(ipywidgets.Textarea(value=json.dumps(tasks)))\n"
        "json.dump({'stack_outputs': {'env': json.dumps(tasks)}}, open(results_path, 'w'))"
    )
    notebook = tmp_path / "bare.ipynb"
    nbformat.write(new_notebook(cells=[parameters, body]), notebook)  # no kernelspec, no language
    secret = "hunter2hunter2"
    files = []
    for folder, environment in (("dev", f"{{DB_PASSWORD: {secret}}}"), ("prod", "{LOG_LEVEL: info}")):
        (tmp_path / folder).mkdir()
        files.append(
            _params(
                tmp_path / folder,
                "app",
                f"stack_name: {folder}\ntasks: [{{name: web, image: nginx, internal: {{port: 80}}, "
                f"environment: {environment}}}]\n",
            )
        )
    files[0].chmod(0o600)
    summary = batch.run_batch(files, notebook=notebook, workers=1, out_dir=tmp_path / "out", progress=False)
    assert summary["status"].tolist() == ["passed", "passed"], summary["result"].tolist()
    run_dir = tmp_path / "out" / "bare"
    assert summary["executed"].tolist() == [f"{run_dir}/dev-app.ipynb", f"{run_dir}/prod-app.ipynb"]
    assert sorted(p.name for p in run_dir.iterdir()) == [
        f"{name}-app{suffix}" for name in ("dev", "prod") for suffix in (".html", ".ipynb", ".json")
    ]
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    for suffix in (".ipynb", ".html", ".json"):
        written = run_dir / f"dev-app{suffix}"
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        text = written.read_text()
        assert secret not in text and "hidden: looks like a credential" in text
    executed = json.loads((run_dir / "dev-app.ipynb").read_text())
    assert executed["metadata"]["widgets"]  # the widget's state was saved, without the value
    assert secret not in summary["result"].iloc[0]
    assert "info" in (run_dir / "prod-app.ipynb").read_text()


def test_a_kernel_pool_starts_the_next_runs_kernel_while_a_run_finishes_and_stops_them_all(tmp_path):
    """Warm kernels: while more runs are coming, a run's end starts the next run's kernel, which
    that run then uses; with none coming, nothing starts; close() leaves no kernel process and
    none of their socket or connection files."""
    import psutil

    parameters = new_code_cell("results_path = None")
    parameters.metadata["tags"] = ["parameters"]
    body = new_code_cell(
        "import json, os\njson.dump({'stack_outputs': {'pid': os.getpid()}}, open(results_path, 'w'))"
    )
    notebook = new_notebook(cells=[parameters, body])

    def kernel_pid(name: str) -> int:
        return json.loads((tmp_path / "out" / f"{name}.json").read_text())["stack_outputs"]["pid"]

    def kernels_running(besides: set[int]) -> set[int]:
        running = set()
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.ZombieProcess, psutil.NoSuchProcess):  # exited, not reaped yet
                if "dualalb_kit.kernel_app" in child.cmdline() and child.pid not in besides:
                    running.add(child.pid)
        return running

    mine = set(Path(tempfile.gettempdir()).glob(f"{batch.kernel.SOCKET_PREFIX}-{os.getpid()}-*"))
    coming = [True, False]
    pool = batch.KernelPool(more_runs=lambda: coming.pop(0))
    runs = [
        batch.prepare_run(SAMPLE, notebook, "pid", str(tmp_path / "out"), name=name)
        for name in ("first", "second")
    ]
    assert batch.execute(runs[0], kernels=pool)["status"] == "passed"
    first = kernel_pid("first")
    (started_ahead,) = kernels_running(besides={first})
    assert batch.execute(runs[1], kernels=pool)["status"] == "passed"
    second = kernel_pid("second")
    assert second == started_ahead
    assert kernels_running(besides={first, second}) == set()  # the last run started none
    pool.close()
    assert not any(psutil.pid_exists(pid) for pid in (first, second))
    assert set(Path(tempfile.gettempdir()).glob(f"{batch.kernel.SOCKET_PREFIX}-{os.getpid()}-*")) == mine
