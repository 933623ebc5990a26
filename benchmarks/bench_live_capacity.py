"""Does the capacity the kit fits from the live sandbox's measured metrics agree with a load test?

Run: ``.venv/bin/python benchmarks/bench_live_capacity.py [--minutes 12] [--max-rps 40] [--repeats 3]``

The sample runs in a live sandbox (HAProxy, task processes, each task limited to its ``cpu: 256``,
a quarter of a core, where the machine allows it), its order service held at ``--tasks`` tasks
(min = max = desired, so the load per task is the load over that count) doing the live demo's
``WORK_MS`` of CPU per request. Two measurements of one task's capacity, side by side:

* **live metrics**: ``--minutes`` one-minute open-loop steps from ``--start-rps`` to ``--max-rps``
  through the external ALB's local URL; :func:`~dualalb_kit.capacity.fit_capacity` on the minutes
  the sandbox published (RequestCount, TargetResponseTime p99, CPUUtilization, RunningTaskCount);
* **load test**: ``dualalb-kit loadtest`` (``run_loadtest``, its defaults: 20 s steps after a
  warm-up, ``--repeats`` repeats) on one order task's own port, CPU in percent of its 256 units.

Printed: both capacities with their intervals and confidence, the load test's repeats and spread
(the goal: at most 15 %), the difference between the two (the goal: within 15 %), and the
machine's load average before and after (take numbers at a load under 1.5).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import yaml

from dualalb_kit.capacity import SLO, capacity_table, fit_capacity
from dualalb_kit.deploy import destroy
from dualalb_kit.live_demo import SERVICE, STACK_NAME, demo_params, run_load
from dualalb_kit.loadtest import repeat_line, run_loadtest, step_line
from dualalb_kit.sandbox import Sandbox
from dualalb_kit.spec import load_spec


def held_at(tasks: int) -> dict:
    """The live demo's params with the order service held at ``tasks`` tasks."""
    params = demo_params()
    (order,) = [task for task in params["tasks"] if task["name"] == SERVICE]
    order["desired_count"] = tasks
    order["scaling"].update(min_capacity=tasks, max_capacity=tasks)
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2, help="order tasks (default 2)")
    parser.add_argument("--minutes", type=int, default=12, help="one-minute steps (default 12)")
    parser.add_argument("--start-rps", type=float, default=4.0, help="first step, requests/s (default 4)")
    parser.add_argument("--max-rps", type=float, default=40.0, help="last step, requests/s (default 40)")
    parser.add_argument("--repeats", type=int, default=3, help="load test repeats (default 3)")
    parser.add_argument("--test-max-rps", type=float, default=30.0, help="load test's last step (default 30)")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}")
    slo = SLO()
    with tempfile.TemporaryDirectory() as folder, Sandbox(live=True, live_stacks={STACK_NAME}) as sandbox:
        params = Path(folder) / "held.yaml"
        params.write_text(yaml.safe_dump(held_at(args.tasks), sort_keys=False))
        spec = load_spec(params)
        print(f"task limits: {sandbox.live.limits}")
        try:
            run = run_load("live metrics", spec, sandbox, slo, (args.start_rps, args.max_rps, args.minutes))
            live = fit_capacity(run.metrics, slo)
            live = live[live["service"] == SERVICE]
            task = next(
                t
                for t in sandbox.live.tasks()
                if f"{SERVICE}Service" in t.service.name and t.status == "RUNNING"
            )
            (port,) = task.ports.values()
            tested = run_loadtest(
                f"http://127.0.0.1:{port}/",
                slo=slo,
                max_rps=args.test_max_rps,
                service=SERVICE,
                repeats=args.repeats,
                cpu_units=task.service.cpu_units,
                on_step=lambda row: print("  " + step_line(row)),
                on_repeat=lambda row: print(repeat_line(row)),
            )
        finally:
            destroy(spec, sandbox.target, progress=False)
    print("\nminutes measured:")
    columns = ["tasks", "requests_per_task", "p99_ms", "cpu_percent", "any"]
    print(run.points.set_index("timestamp")[columns].round(1).to_string())
    print("\nfrom the live metrics:\n" + capacity_table(live).to_string(index=False))
    print("\nfrom the load test:\n" + capacity_table(tested.capacity).to_string(index=False))
    print(f"load test spread: {tested.spread_percent:.1f} % (goal <= 15 %)")
    from_metrics = float(live["requests_per_task_at_slo"].iloc[0])
    from_test = float(tested.capacity["requests_per_task_at_slo"].iloc[0])
    print(
        f"live metrics {from_metrics:,.0f} vs load test {from_test:,.0f} requests/min per task: "
        f"{100 * (from_metrics / from_test - 1):+.1f} % (goal within 15 %)"
    )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
