"""Capacity-provider placement and Fargate pricing, against hand-computed numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from dualalb_kit import ValidationError
from dualalb_kit.cost import STANDARD_MIXES, compare_mixes, cost_of, load_pricing, split_tasks
from dualalb_kit.spec import CapacitySpec

BASE_1_ONE_TO_THREE = [
    {"provider": "FARGATE", "base": 1, "weight": 1},
    {"provider": "FARGATE_SPOT", "weight": 3},
]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        # base 1 on FARGATE; 9 left, 1:3 -> 9/4 = 2.25 and 27/4 = 6.75; the one left over goes to
        # the larger fraction (FARGATE_SPOT): 1 + 2 = 3 on-demand, 7 spot.
        (10, {"FARGATE": 3, "FARGATE_SPOT": 7}),
        # 4 left divides evenly: 1 + 1 and 3.
        (5, {"FARGATE": 2, "FARGATE_SPOT": 3}),
        # 1 left: 0.25 vs 0.75 -> spot.
        (2, {"FARGATE": 1, "FARGATE_SPOT": 1}),
        # the base takes everything below it
        (1, {"FARGATE": 1, "FARGATE_SPOT": 0}),
        (0, {"FARGATE": 0, "FARGATE_SPOT": 0}),
    ],
)
def test_base_first_then_weights(count, expected):
    assert split_tasks(count, BASE_1_ONE_TO_THREE) == expected


def test_ties_go_to_the_provider_listed_first_and_base_may_sit_on_spot():
    even = [{"provider": "FARGATE"}, {"provider": "FARGATE_SPOT"}]
    assert split_tasks(3, even) == {"FARGATE": 2, "FARGATE_SPOT": 1}
    assert split_tasks(3, even[::-1]) == {"FARGATE_SPOT": 2, "FARGATE": 1}
    # Spot base 2, 5 left split 1:1 = 2.5 each; the tie goes to FARGATE, listed first.
    spot_base = [
        CapacitySpec(provider="FARGATE", weight=1),
        CapacitySpec(provider="FARGATE_SPOT", base=2, weight=1),
    ]
    assert split_tasks(7, spot_base) == {"FARGATE": 3, "FARGATE_SPOT": 4}
    # "for every one task on A, four on B"
    assert split_tasks(
        5, [{"provider": "FARGATE", "weight": 1}, {"provider": "FARGATE_SPOT", "weight": 4}]
    ) == {
        "FARGATE": 1,
        "FARGATE_SPOT": 4,
    }
    # weight 0 with a base: only the base runs there
    zero_weight = [{"provider": "FARGATE", "base": 2, "weight": 0}, {"provider": "FARGATE_SPOT", "weight": 1}]
    assert split_tasks(6, zero_weight) == {"FARGATE": 2, "FARGATE_SPOT": 4}


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        ([{"provider": "FARGATE", "base": 1}, {"provider": "FARGATE_SPOT", "base": 1}], "strategy"),
        ([{"provider": "FARGATE", "weight": 0}], "strategy"),
        ([{"provider": "EC2"}], "strategy[0].provider"),
        ([{"provider": "FARGATE"}, {"provider": "FARGATE"}], "strategy[1].provider"),
        ([{"provider": "FARGATE", "base": -1}], "strategy[0].base"),
        ([], "strategy"),
    ],
)
def test_invalid_strategies(strategy, field):
    with pytest.raises(ValidationError) as error:
        split_tasks(3, strategy)
    assert error.value.field == field


def test_cost_of_ten_small_tasks_for_an_hour():
    # 3 on-demand: 0.75 vCPU-h x 0.04048 + 1.5 GB-h x 0.004445 = 0.03036 + 0.0066675 = 0.0370275
    # 7 spot:      1.75 vCPU-h x 0.01334053 + 3.5 GB-h x 0.00146489 = 0.0233459275 + 0.005127115
    frame = cost_of(10, cpu=256, memory=512, strategy=BASE_1_ONE_TO_THREE, period_seconds=3600).set_index(
        "provider"
    )
    assert frame.loc["FARGATE", "tasks"] == 3 and frame.loc["FARGATE_SPOT", "tasks"] == 7
    assert frame.loc["FARGATE", "vcpu_hours"] == pytest.approx(0.75)
    assert frame.loc["FARGATE_SPOT", "gb_hours"] == pytest.approx(3.5)
    assert frame.loc["FARGATE", "cost"] == pytest.approx(0.0370275)
    assert frame.loc["FARGATE_SPOT", "cost"] == pytest.approx(0.0284730425)
    assert frame["cost"].sum() == pytest.approx(0.0655005425)


def test_cost_of_a_per_minute_frame():
    # Two services, 60 minutes at 2 tasks then 60 at 4: 360 task-minutes each = 6 task-hours each,
    # 12 in all. 1 vCPU / 2 GB on-demand: 12 x 0.04048 + 24 x 0.004445 = 0.48576 + 0.10668.
    stamps = pd.date_range("2026-01-05", periods=120, freq="1min", tz="UTC")
    one = pd.DataFrame({"timestamp": stamps, "service": "web", "tasks": [2] * 60 + [4] * 60})
    frame = pd.concat([one, one.assign(service="api")], ignore_index=True)
    result = cost_of(frame, cpu=1024, memory=2048, strategy=[CapacitySpec(provider="FARGATE")])
    assert result["task_hours"].tolist() == [12.0]
    assert result["tasks"].tolist() == [6.0]  # two services x 3 tasks on average, at once
    assert result["cost"].sum() == pytest.approx(0.59244)


def test_counts_must_be_whole():
    with pytest.raises(ValidationError, match="^tasks: task counts must be whole numbers"):
        cost_of([1.5], cpu=256, memory=512, strategy=BASE_1_ONE_TO_THREE)
    with pytest.raises(ValidationError, match="^tasks: the frame needs a 'tasks' column"):
        cost_of(pd.DataFrame({"n": [1]}), cpu=256, memory=512, strategy=BASE_1_ONE_TO_THREE)


def test_compare_mixes_side_by_side():
    table = compare_mixes(10, cpu=1024, memory=2048, period_seconds=3600).set_index("mix")
    assert list(table.index) == list(STANDARD_MIXES)
    assert table.loc["base 1, 1:3 spot", ["on_demand_tasks", "spot_tasks"]].tolist() == [3.0, 7.0]
    assert table.loc["base 1, 1:1 spot", ["on_demand_tasks", "spot_tasks"]].tolist() == [
        6.0,
        4.0,
    ]  # base 1; 9 = 4.5 + 4.5, tie to FARGATE
    # all on-demand: 10 vCPU-h x 0.04048 + 20 GB-h x 0.004445 = 0.4048 + 0.0889
    assert table.loc["all on-demand", "cost"] == pytest.approx(0.4937)
    assert table.loc["all on-demand", "saving"] == 0
    # all spot: 10 x 0.01334053 + 20 x 0.00146489 = 0.1334053 + 0.0292978
    assert table.loc["all spot", "cost"] == pytest.approx(0.1627031)
    assert table.loc["all spot", "saving"] == pytest.approx(1 - 0.1627031 / 0.4937)
    assert (table["on_demand_cost"] + table["spot_cost"]).tolist() == pytest.approx(table["cost"].tolist())


def test_price_table_covers_the_documented_regions():
    pricing = load_pricing()
    for region in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1"):
        on_demand, spot = pricing.rates(region, "FARGATE"), pricing.rates(region, "FARGATE_SPOT")
        assert 0 < spot[0] < on_demand[0] and 0 < spot[1] < on_demand[1]
    assert pricing.rates("us-east-1", "FARGATE") == (0.04048, 0.004445)
    assert pricing.taken == "2026-11-27"
    assert "on-demand rate times" in pricing.source
    assert len(pricing.table()) == 2 * len(pricing.regions)


def test_pricing_override_by_mapping_and_by_file(tmp_path):
    extra = {"sa-east-1": {"FARGATE": {"vcpu_hour": 0.0696, "gb_hour": 0.0076}}}
    pricing = load_pricing(extra)
    assert pricing.rates("sa-east-1", "FARGATE") == (0.0696, 0.0076)
    assert pricing.rates("us-east-1", "FARGATE") == (0.04048, 0.004445)  # untouched
    path = tmp_path / "prices.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "taken": "2027-01-01",
                "regions": {"us-east-1": {"FARGATE_SPOT": {"vcpu_hour": 0.01, "gb_hour": 0.001}}},
            }
        )
    )
    from_file = cost_of(
        1, cpu=1024, memory=1024, strategy=[{"provider": "FARGATE_SPOT"}], pricing=path, period_seconds=3600
    )
    assert from_file["cost"].sum() == pytest.approx(0.011)
    assert load_pricing(path).taken == "2027-01-01"
    json_path = tmp_path / "prices.json"
    json_path.write_text(json.dumps({"regions": extra}))
    assert load_pricing(json_path).rates("sa-east-1", "FARGATE") == (0.0696, 0.0076)


def test_unknown_region_and_bad_override():
    with pytest.raises(ValidationError, match=r"^region: no Fargate prices for 'mars-1'"):
        cost_of(1, cpu=256, memory=512, strategy=BASE_1_ONE_TO_THREE, region="mars-1")
    with pytest.raises(ValidationError, match=r"^pricing\.us-east-1\.FARGATE: needs numeric"):
        load_pricing({"us-east-1": {"FARGATE": {"vcpu_hour": "cheap"}}})
