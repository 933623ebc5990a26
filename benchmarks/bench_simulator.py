"""Target-tracking simulator: 100 services x 1 week of 1-minute data, against two baselines.

Run: ``.venv/bin/python benchmarks/bench_simulator.py [--services 100] [--days 7] [--repeats 5]``

Rows of the printed table (medians of ``--repeats`` runs; wall clock and process CPU time, since
the machine may be shared):

* ``simulate_target_tracking``: end to end on the tidy frame (series extraction, replay, result
  frames), once with plain string label columns and once with categorical ones;
* ``replay`` (vectorized core): the NumPy loop over minutes, all services at once;
* ``replay, one service per call``: the same core called once per service, timed on a subset and
  scaled up to all services;
* ``plain Python loop``: a per-service, per-minute, per-policy Python implementation of the same
  rules, timed on a subset and scaled up. Its task counts must equal the vectorized ones.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import pandas as pd

from dualalb_kit.scaling import replay, simulate_target_tracking

CPU_TARGET, REQUEST_TARGET, MAX_CAPACITY = 50.0, 1000.0, 40


def synthetic_load(services: int, days: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Seeded per-minute load of ``services`` services over ``days``: ``requests`` (both ALBs
    together), ``running`` tasks and their ``cpu`` percent, each of shape (services, minutes)."""
    rng = np.random.default_rng(seed)
    minutes = days * 24 * 60
    hour = np.arange(minutes) / 60.0
    diurnal = 1.0 + 0.8 * np.sin((hour % 24 - 8) / 24 * 2 * np.pi)
    peak = rng.uniform(1_000, 20_000, size=(services, 1))
    requests = peak * diurnal * rng.lognormal(0.0, 0.15, size=(services, minutes))
    spikes = rng.random((services, minutes)) < 0.001
    requests = np.where(spikes, requests * 4, requests)
    running = np.maximum(1, np.round(requests / 900))
    cpu = np.clip(35 * requests / (running * 900) * rng.lognormal(0, 0.1, size=requests.shape), 1, 100)
    return {"requests": requests, "running": running, "cpu": cpu}


TIDY_SERIES = (  # (metric, stat, alb) of each block of synthetic_frame's rows
    ("RequestCount", "Sum", "external"),
    ("RequestCount", "Sum", "internal"),
    ("CPUUtilization", "Average", None),
    ("RunningTaskCount", "Average", None),
)


def synthetic_frame(load: dict[str, np.ndarray], names: list[str]) -> pd.DataFrame:
    """``load`` as a tidy frame shaped like ``load_metrics``'s (categorical labels): RequestCount on
    the external (70 %) and internal (30 %) ALB, CPUUtilization and RunningTaskCount, one block of
    rows per series, services in ``names`` order within it, minutes within a service."""
    requests = load["requests"]
    services, minutes = requests.shape
    grid = pd.date_range("2026-01-05", periods=minutes, freq="1min")
    rows = len(TIDY_SERIES) * services * minutes

    def labels(values: list, categories: list[str]) -> pd.Categorical:
        codes = np.array(
            [-1 if value is None else categories.index(value) for value in values], dtype=np.int8
        )
        return pd.Categorical.from_codes(np.repeat(codes, services * minutes), categories=categories)

    metric, stat, alb = (list(column) for column in zip(*TIDY_SERIES, strict=True))
    return pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(np.tile(grid.to_numpy(), rows // minutes)).tz_localize("UTC"),
            "service": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(services, dtype=np.int32), minutes), len(TIDY_SERIES)),
                categories=names,
            ),
            "alb": labels(alb, ["external", "internal"]),
            "metric": labels(metric, sorted(set(metric))),
            "stat": labels(stat, sorted(set(stat))),
            "value": np.concatenate(
                [
                    (requests * 0.7).ravel(),
                    (requests * 0.3).ravel(),
                    load["cpu"].ravel(),
                    load["running"].ravel(),
                ]
            ),
        }
    )


def synthetic_metrics(services: int, days: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """A tidy frame (:func:`synthetic_frame` of :func:`synthetic_load`, services ``svc000``...) and
    the (minutes, policies, services) demand array the same data means under the benchmark's targets."""
    load = synthetic_load(services, days, seed)
    frame = synthetic_frame(load, [f"svc{index:03d}" for index in range(services)])
    requests, running, cpu = load["requests"], load["running"], load["cpu"]
    demand = np.stack(
        [cpu * running / CPU_TARGET, requests * 0.7 / REQUEST_TARGET, requests * 0.3 / REQUEST_TARGET]
    )
    return frame, np.round(demand.transpose(2, 0, 1), 9)


def python_replay(demand: np.ndarray, initial: int, low: int, high: int) -> list[int]:
    """Plain-Python target tracking for one service: demand is a list of minutes of per-policy values."""
    counts, current = [], initial
    out_runs = [0] * len(demand[0])
    in_runs = [0] * len(demand[0])
    present = [any(not math.isnan(row[k]) for row in demand) for k in range(len(demand[0]))]
    last_out = last_in = -math.inf
    for minute, row in enumerate(demand):
        counts.append(current)
        out_wanted, in_wanted, all_agree = 0, low, any(present)
        for k, value in enumerate(row):
            if not present[k]:
                continue
            if math.isnan(value):
                all_agree = False
                continue
            out_runs[k] = out_runs[k] + 1 if value > current else 0
            in_runs[k] = in_runs[k] + 1 if value < 0.9 * current else 0
            wanted = math.ceil(value)
            if out_runs[k] >= 3:
                out_wanted = max(out_wanted, wanted)
            in_wanted = max(in_wanted, wanted)
            all_agree = all_agree and in_runs[k] >= 15
        out_to = min(out_wanted, high)
        if out_to > current:
            current, last_out, last_in = out_to, minute, -math.inf
        elif all_agree and in_wanted < current and minute - last_out >= 5 and minute - last_in >= 5:
            current, last_in = in_wanted, minute
    return counts


def medians(run, repeats: int) -> tuple[float, float]:
    """Median wall-clock and median process CPU seconds of ``repeats`` calls of ``run``."""
    wall, cpu = [], []
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement of the simulator")
    parser.add_argument("--baseline-repeats", type=int, default=3, help="runs per baseline measurement")
    parser.add_argument("--subset", type=int, default=4, help="services timed for the per-service baselines")
    args = parser.parse_args()

    metrics, demand = synthetic_metrics(args.services, args.days)
    categorical = metrics
    metrics = categorical.astype({column: object for column in ("service", "alb", "metric", "stat")})
    scaling = {
        "max_capacity": MAX_CAPACITY,
        "request_per_target": REQUEST_TARGET,
        "target_cpu_utilization": CPU_TARGET,
    }
    result = simulate_target_tracking(metrics, scaling)
    initial = result.tasks["tasks"].to_numpy()[: args.services]
    low = np.full(args.services, 1)
    high = np.full(args.services, MAX_CAPACITY)
    subset = range(args.subset)
    scale = args.services / args.subset
    rows = [demand[:, :, s].tolist() for s in subset]

    core = medians(lambda: replay(demand, initial, low, high), args.repeats)
    measured = [
        (
            "simulate_target_tracking, str columns",
            medians(lambda: simulate_target_tracking(metrics, scaling), args.repeats),
        ),
        (
            "simulate_target_tracking, categorical",
            medians(lambda: simulate_target_tracking(categorical, scaling), args.repeats),
        ),
        ("replay (vectorized core)", core),
    ]
    for name, run in (
        (
            f"replay, one service per call (x{scale:g})",
            lambda: [replay(demand[:, :, [s]], initial[[s]], low[[s]], high[[s]]) for s in subset],
        ),
        (
            f"plain Python loop (x{scale:g})",
            lambda: [python_replay(rows[s], int(initial[s]), 1, MAX_CAPACITY) for s in subset],
        ),
    ):
        wall, cpu = medians(run, args.baseline_repeats)
        measured.append((name, (wall * scale, cpu * scale)))

    vectorized = result.tasks["tasks"].to_numpy().reshape(-1, args.services)
    agree = all(
        python_replay(rows[s], int(initial[s]), 1, MAX_CAPACITY) == vectorized[:, s].tolist() for s in subset
    )
    minutes = vectorized.shape[0]
    print(f"{args.services} services x {minutes} minutes ({args.days} days), {len(metrics):,} input rows")
    print(f"{'implementation':<44}{'wall s':>9}{'CPU s':>9}{'CPU vs core':>13}")
    for name, (wall, cpu) in measured:
        print(f"{name:<44}{wall:>9.3f}{cpu:>9.3f}{cpu / core[1]:>12.1f}x")
    print(f"medians of {args.repeats} runs ({args.baseline_repeats} for the scaled-up per-service baselines)")
    print(f"plain Python and vectorized task counts agree on {args.subset} services: {agree}")
    capped = int(result.tasks["capped"].sum())
    print(f"scaling activities: {len(result.activities):,}; capped minutes: {capped:,}")


if __name__ == "__main__":
    main()
