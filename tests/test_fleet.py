"""Fleet analysis on a real Dask LocalCluster: services partitioned over workers, summaries gathered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from distributed import Client, get_worker
from test_scaling import tidy

from dualalb_kit.cluster import local_cluster
from dualalb_kit.fleet import map_partitions, map_services
from dualalb_kit.scaling import TaskSize, simulate_grid

SERVICES = [f"svc{index}" for index in range(7)]


@pytest.fixture(scope="module")
def client():
    with local_cluster(2) as cluster, Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def fleet() -> pd.DataFrame:
    """Six hours of seeded load for seven services: requests on the external ALB, CPU, running tasks."""
    rng = np.random.default_rng(3)
    minutes = 360
    series = {}
    for index, service in enumerate(SERVICES):
        requests = (
            (index + 1) * 900 * (1.5 + np.sin(np.arange(minutes) / 40)) * rng.lognormal(0, 0.2, minutes)
        )
        running = np.maximum(1, np.round(requests / 1500))
        series[service, "external", "RequestCount", "Sum"] = requests
        series[service, None, "CPUUtilization", "Average"] = np.clip(requests / running / 40, 1, 100)
        series[service, None, "RunningTaskCount", "Average"] = running
    metrics = tidy(series)
    metrics.attrs["synthetic"] = True
    return metrics


@pytest.mark.parametrize("labels", ["str", "category"])
def test_simulate_grid_on_the_cluster_equals_the_single_process_grid(client, fleet, labels):
    scaling = {"max_capacity": 10, "request_per_target": 1000, "target_cpu_utilization": 50}
    sizes = {service: TaskSize(cpu=256, memory=512) for service in SERVICES}
    if labels == "category":  # as load_metrics returns them; split over workers by their codes
        fleet = fleet.astype({column: "category" for column in ("service", "alb", "metric", "stat")})
    arguments = (fleet, scaling, [600, 1000, None], [4, 8])
    local = simulate_grid(*arguments, sizes=sizes)
    distributed = simulate_grid(*arguments, sizes=sizes, client=client)
    assert len(local) == 3 * 2 * 7
    pd.testing.assert_frame_equal(distributed, local)


def _where(part: pd.DataFrame) -> pd.DataFrame:
    services = sorted(part["service"].unique())
    return pd.DataFrame(
        {
            "service": services,
            "worker": get_worker().address,
            "rows": [int((part["service"] == s).sum()) for s in services],
        }
    ).assign(synthetic=part.attrs["synthetic"])


def test_each_service_goes_to_exactly_one_partition_on_the_clusters_workers(client, fleet):
    placed = map_services(client, fleet, _where, partitions=3)
    assert placed["service"].tolist() == SERVICES
    assert (placed["rows"] == 3 * 360).all()
    assert placed["synthetic"].all()
    assert set(placed["worker"]) <= set(client.scheduler_info()["workers"])


def _square(value: int, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"value": [value * value + offset]})


def test_map_partitions_keeps_partition_order_with_a_bounded_window(client):
    consumed = []

    def numbers():
        for value in range(10):
            consumed.append(value)
            yield value

    frames = map_partitions(client, numbers(), _square, offset=1, in_flight=2)
    assert [frame["value"].item() for frame in frames] == [value * value + 1 for value in range(10)]
    assert consumed == list(range(10))
