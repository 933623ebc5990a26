"""Synthesis and CLI speed, side by side with baselines measured in the same run.

Prints, each a median of ``--runs`` (default 5) with the commands alternating run by run, and the
machine's 1-minute load average before each section (``--max-load`` waits for a quieter machine):

1. cold ``dualalb-kit synth params/sample.yaml`` (a new process each run) with cdk-nag and
   cfn-lint (the default), with cdk-nag only (``--no-lint``) and with neither, and ``--files``
   (default 10) copies of it in one call, against the same stack written directly on aws-cdk-lib
   in Python (``benchmarks/py_peer``, the app a Python user would write without the kit: same
   jsii on plain Node, so the ratio to it is the kit's own cost, less what the kit's V8 flags
   save; the peer with those flags is a row of its own) and in JavaScript (``benchmarks/js``), on
   the same Node 24; the resource types where the peer's template and the kit's differ;
2. ``dualalb-kit --help`` against ``python -c pass``;
3. the ``--files`` copies in one ``dualalb-kit synth`` call against the same files in as many
   separate calls (default flags, so cdk-nag and cfn-lint);
4. where one cold synthesis goes, phase by phase, in fresh processes: the JavaScript baseline's
   own phases (``BENCH_PHASES=1``) beside the kit's (imports, jsii's Node start and assembly loads,
   building the constructs with its jsii round trips counted, ``app.synth()``, the CLI's tables,
   cfn-lint), each with its wall time, this process's CPU and jsii's Node's CPU (from /proc), with
   and without cdk-nag and cfn-lint; and the warm re-synth in one Python process.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--runs 5] [--files 10] [--phases-only] [--max-load 1.5]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "benchmarks" / "js"
PEER = ROOT / "benchmarks" / "py_peer" / "sample_stack.py"
SAMPLE = ROOT / "params" / "sample.yaml"
BIN = Path(sys.executable).parent
CLI = str(BIN / "dualalb-kit")

PHASES = """
import json, os, sys, time
from pathlib import Path

rows, last = [], {}
TICK = os.sysconf("SC_CLK_TCK")


node = {}


def node_cpu():
    # CPU seconds of jsii's Node processes (its launcher and the kernel it starts), from /proc
    if "pid" not in node:
        return 0.0
    pids = [node["pid"]]
    for task in os.listdir(f"/proc/{pids[0]}/task"):
        pids += [int(p) for p in open(f"/proc/{pids[0]}/task/{task}/children").read().split()]
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return total


trips = {"n": 0}


def mark(name):
    now = (time.perf_counter(), time.process_time(), node_cpu(), trips["n"])
    if last:
        rows.append([name, *(a - b for a, b in zip(now, last["v"]))])
    last["v"] = now


mark("")
import dualalb_kit.cli
mark("import dualalb_kit.cli")
from dualalb_kit.spec import load_spec
spec = load_spec(sys.argv[1])
mark("import pydantic and the spec, load the params file")
from jsii._kernel.providers.process import _NodeProcess
send = _NodeProcess.send


def counted_send(self, *args, **kwargs):
    trips["n"] += 1  # one request to jsii's Node process and its answer
    return send(self, *args, **kwargs)


_NodeProcess.send = counted_send
start = _NodeProcess.start


def recorded_start(self):
    start(self)
    node["pid"] = self._process.pid


_NodeProcess.start = recorded_start
import aws_cdk
mark("import aws_cdk: jsii starts Node, loads the assemblies")
import dualalb_kit.build
mark("import aws-cdk-lib's Python modules (dualalb_kit.build)")
nag = sys.argv[3] == "nag"
if nag:
    import cdk_nag
    mark("import cdk_nag (loads its assembly)")
from aws_cdk import App, Validations
app = App(outdir=sys.argv[2])
dualalb_kit.build.build_stack(spec, app=app)
if nag:
    Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
mark("build the constructs")
try:
    app.synth()
except RuntimeError:
    pass  # a finding fails the synthesis; the time is what counts here
mark("app.synth() in Node" + (" with cdk-nag" if nag else ""))
from dualalb_kit.assembly import read_assembly
from dualalb_kit.diagram import service_placement, topology
template = read_assembly(sys.argv[2]).template
topology(template), service_placement(template)
mark("read the assembly, import pandas, the CLI's tables")
if sys.argv[4] == "lint":
    from dualalb_kit.lint import lint_template
    template_path = Path(sys.argv[2]) / f"{spec.stack_name}.template.json"
    lint_template(template_path, spec.region)
    mark("cfn-lint (import, its rules and one template)")
    lint_template(template_path, spec.region)
    mark("cfn-lint, the same template again (rules loaded)")
print(json.dumps(rows))
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def alternating(commands: dict[str, Callable[[int], list[str]]], runs: int) -> dict[str, float]:
    """Median seconds of each command, run ``runs`` times in turn (a, b, c, a, b, c, ...)."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs):
        for name, command_for_run in commands.items():
            samples[name].append(timed(command_for_run(run)))
    return {name: statistics.median(values) for name, values in samples.items()}


def table(title: str, rows: dict[str, float], *baselines: str) -> None:
    """``rows`` (name -> median seconds), each also as a ratio to each of ``baselines`` (names in it)."""
    print(f"\n{title}")
    print(f"{'':<52} {'seconds':>8}" + "".join(f" {'vs ' + name[:24]:>28}" for name in baselines))
    for name, seconds in rows.items():
        ratios = "".join(f" {seconds / rows[baseline]:>27.2f}x" for baseline in baselines)
        print(f"{name:<52} {seconds:>8.2f}{ratios}")


def quiet_machine(max_load: float | None, patience: float = 1800.0) -> None:
    """Print the 1-minute load average; with ``max_load``, first wait (checking every 30 s, at most
    ``patience`` seconds) until it is below ``max_load``, and say so if it never was."""
    waited = 0.0
    while max_load is not None and os.getloadavg()[0] >= max_load and waited < patience:
        time.sleep(30)
        waited += 30
    load = os.getloadavg()[0]
    above = max_load is not None and load >= max_load
    print(f"[load average {load:.2f}{f', above --max-load {max_load} after waiting' if above else ''}]")


def peer_differences(peer_assembly: Path, kit_assembly: Path) -> dict[str, int]:
    """Resource type -> count in the Python peer's template minus the kit's, where they differ."""
    from dualalb_kit.spec import load_spec

    loader = importlib.util.spec_from_file_location("py_peer_differences", PEER.parent / "differences.py")
    differences = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(differences)
    template_name = f"{load_spec(SAMPLE).stack_name}.template.json"
    return differences.resource_differences(
        json.loads((peer_assembly / template_name).read_text()),
        json.loads((kit_assembly / template_name).read_text()),
    )


def params_copies(directory: Path, count: int) -> list[Path]:
    """``count`` copies of params/sample.yaml, each with its own stack name."""
    text = SAMPLE.read_text()
    paths = []
    for number in range(count):
        path = directory / f"sample-{number:02d}.yaml"
        path.write_text(
            text.replace("stack_name: dualalb-sample", f"stack_name: dualalb-sample-{number:02d}")
        )
        paths.append(path)
    return paths


def kit_phases(scratch: Path, run: int, nag: bool, lint: bool) -> list[list]:
    """One fresh process's phases: [name, wall s, Python CPU s, Node CPU s, jsii round trips]."""
    flags = ["nag" if nag else "no-nag", "lint" if lint else "no-lint"]
    command = [sys.executable, "-c", PHASES, str(SAMPLE), str(scratch / f"phases{run}{nag}{lint}"), *flags]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def js_phases(node: str, scratch: Path, run: int) -> dict[str, float]:
    """The JavaScript baseline's own phases (``BENCH_PHASES=1``: JSON on stderr)."""
    command = [node, str(BASELINE / "sample_stack.js"), str(scratch / f"js-phases{run}")]
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "BENCH_PHASES": "1"}
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def print_phases(node: str, scratch: Path, runs: int) -> None:
    """Section 4: where a cold synthesis goes, the kit's phases beside the baseline's (medians)."""
    print(f"\n4. Where one cold synthesis goes (fresh processes, median of {runs} each)")
    baseline = [js_phases(node, scratch, run) for run in range(runs)]
    print("aws-cdk-lib in JavaScript (seconds):")
    for name in baseline[0]:
        print(f"  {name:<66} {statistics.median(b[name] for b in baseline):>8.2f}")
    for nag, lint in ((False, False), (True, True)):
        samples = [kit_phases(scratch, run, nag, lint) for run in range(runs)]
        label = "cdk-nag and cfn-lint" if nag else "--no-nag --no-lint"
        print(f"dualalb-kit, {label}: {'wall':>32} {'Python CPU':>11} {'Node CPU':>9} {'trips':>6}")
        for index, row in enumerate(samples[0]):
            values = [statistics.median(s[index][column] for s in samples) for column in (1, 2, 3, 4)]
            print(f"  {row[0]:<58} {values[0]:>8.2f} {values[1]:>11.2f} {values[2]:>9.2f} {values[3]:>6.0f}")
        total = [statistics.median(sum(r[column] for r in s) for s in samples) for column in (1, 2, 3)]
        print(f"  {'sum':<58} {total[0]:>8.2f} {total[1]:>11.2f} {total[2]:>9.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command, alternating (default 5)")
    parser.add_argument(
        "--files", type=int, default=10, help="params files for the many-files case (default 10)"
    )
    parser.add_argument(
        "--phases-only", action="store_true", help="only section 4, the phases (about a minute with --runs 3)"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        help="before each section, wait (up to 30 minutes) until the 1-minute load average is below this",
    )
    options = parser.parse_args()

    from dualalb_kit.runtime import jsii_node_launcher, node_executable, npm

    if not (BASELINE / "node_modules" / "aws-cdk-lib").exists():
        npm(["ci", "--prefix", str(BASELINE), "--no-audit", "--no-fund", "--loglevel=error"])
    node = str(node_executable())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    print(
        f"bench_synth: median of {options.runs}, alternating; Node {node_version}; {os.cpu_count()} CPUs; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    if sys.dont_write_bytecode:
        print(
            "note: PYTHONDONTWRITEBYTECODE is set and no bytecode is cached, so every Python run compiles "
            "each module it imports (seconds, more for the kit than the peer); an installed package has "
            "its bytecode: unset it, or set PYTHONPYCACHEPREFIX to a writable folder"
        )

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        if options.phases_only:
            quiet_machine(options.max_load)
            print_phases(node, scratch, options.runs)
            return 0

        def kit_assembly(flags: tuple[str, ...], run: int) -> Path:
            return scratch / f"kit{''.join(flags)}{run}"

        def kit(*flags: str) -> Callable[[int], list[str]]:
            return lambda run: [CLI, "synth", str(SAMPLE), "-o", str(kit_assembly(flags, run)), *flags]

        def python_peer(jsii_node: str, name: str) -> Callable[[int], list[str]]:
            return lambda run: [
                "env",
                f"JSII_NODE={jsii_node}",
                sys.executable,
                str(PEER),
                str(scratch / f"{name}{run}"),
            ]

        copies = params_copies(scratch, options.files)
        one_call = f"{options.files} files in one `dualalb-kit synth` call"
        peer = "aws-cdk-lib in Python, no kit (peer)"
        peer_one_thread = "the peer with the kit's V8 flags"

        def one_call_command(run: int) -> list[str]:
            return [CLI, "synth", *map(str, copies), "-o", str(scratch / f"one-call{run}")]

        quiet_machine(options.max_load)
        cold = alternating(
            {
                peer: python_peer(node, "peer"),
                peer_one_thread: python_peer(str(jsii_node_launcher() or node), "peer-one-thread"),
                "aws-cdk-lib in JavaScript": lambda run: [
                    node,
                    str(BASELINE / "sample_stack.js"),
                    str(scratch / f"js{run}"),
                ],
                "dualalb-kit synth (cdk-nag and cfn-lint, default)": kit(),
                "dualalb-kit synth --no-lint (cdk-nag)": kit("--no-lint"),
                "dualalb-kit synth --no-nag --no-lint": kit("--no-nag", "--no-lint"),
                one_call: one_call_command,
            },
            options.runs,
        )
        table(
            "1. Cold synth of params/sample.yaml",
            cold,
            peer,
            "dualalb-kit synth (cdk-nag and cfn-lint, default)",
        )
        differences = peer_differences(scratch / "peer0", kit_assembly((), 0))
        print(
            "resource types, the peer's count minus the kit's: "
            + (", ".join(f"{kind} {count:+d}" for kind, count in differences.items()) or "none differ")
        )

        quiet_machine(options.max_load)
        startup = alternating(
            {
                "python -c pass (baseline)": lambda run: [sys.executable, "-c", "pass"],
                "dualalb-kit --help": lambda run: [CLI, "--help"],
            },
            options.runs,
        )
        table("2. Start-up", startup, "python -c pass (baseline)")

        many_runs = max(1, options.runs // 2)

        def separate_calls(run: int) -> list[str]:
            script = "; ".join(
                f"{CLI} synth {path} -o {scratch / f'sep{run}' / path.stem} >/dev/null" for path in copies
            )
            return ["sh", "-ec", script]

        quiet_machine(options.max_load)
        many = alternating(
            {
                one_call: one_call_command,
                f"{options.files} files in {options.files} separate calls": separate_calls,
            },
            many_runs,
        )
        table(f"3. Many params files (median of {many_runs})", many, one_call)

        quiet_machine(options.max_load)
        print_phases(node, scratch, options.runs)

        from dualalb_kit.spec import load_spec
        from dualalb_kit.synth import synth

        spec = load_spec(SAMPLE)
        for nag in (True, False):
            synth(spec, scratch / "warm", nag=nag)
            samples = []
            for _ in range(options.runs):
                started = time.perf_counter()
                synth(spec, scratch / "warm", nag=nag)
                samples.append(time.perf_counter() - started)
            label = "with cdk-nag" if nag else "without cdk-nag"
            print(f"{'warm re-synth in one Python process, ' + label:<72} {statistics.median(samples):>8.3f}")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
