"""The Custodian peer's pure parts: its policy, the metrics CloudWatch would show, the ticks, its result.

c7n itself is not installed here (the bench installs it into a throwaway virtualenv).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from devtools import bench_custodian as custodian
from devtools.alternatives import query_usd
from devtools.scenario import Scenario

LOOP = datetime(2026, 11, 28, 7, 28, tzinfo=UTC)


def test_the_policy_sets_concurrency_to_zero_on_more_invocations_in_its_window_than_the_default_rate():
    (policy,) = custodian.policy_document(5, 15)["policies"]
    assert policy["resource"] == "aws.lambda"
    assert policy["mode"] == {"type": "periodic", "schedule": "rate(5 minutes)"}
    (metrics,) = policy["filters"]
    assert metrics["type"] == "metrics" and metrics["name"] == "Invocations"
    assert (metrics["namespace"], metrics["statistics"], metrics["op"]) == (
        "AWS/Lambda",
        "Sum",
        "greater-than",
    )
    assert metrics["period"] == 15 * 60
    assert metrics["days"] * 24 * 60 == pytest.approx(15)
    assert metrics["value"] == 180  # 60 queries in 5 minutes, one invocation each
    assert policy["actions"] == [{"type": "set-concurrency", "value": 0}]


def test_the_bench_runs_the_same_policy_in_pull_mode():
    document = custodian.policy_document(15, 15)
    (pulled,) = custodian.pull_mode(document)["policies"]
    assert "mode" not in pulled
    assert pulled == {k: v for k, v in document["policies"][0].items() if k != "mode"}


def test_each_minute_is_shown_lag_minutes_after_it_ends():
    minute = datetime(2026, 11, 28, 7, 30, tzinfo=UTC)
    (point,) = custodian.datapoints({minute: 20}, lag_minutes=2)
    assert point == {
        "minute": minute.isoformat(),
        "count": 20,
        "visible_at": datetime(2026, 11, 28, 7, 33, tzinfo=UTC).isoformat(),
    }


def test_one_invocation_per_query_of_the_night():
    scenario = Scenario.load()
    per_minute = custodian.invocations_per_minute(scenario)
    assert sum(per_minute.values()) == len(scenario.replay.night_queries())
    assert per_minute[LOOP + timedelta(minutes=5)] == 20  # the loop: one every 3 s
    assert (
        max(n for minute, n in per_minute.items() if minute < LOOP - timedelta(minutes=1)) == 2
    )  # every 40 s


def test_ticks_fall_on_the_interval_and_start_before_the_loop():
    ticks = custodian.ticks(LOOP, 15, before=2, horizon_hours=1)
    assert ticks[:3] == [LOOP.replace(minute=0), LOOP.replace(minute=15), LOOP.replace(minute=30)]
    assert len(ticks) == 6
    assert all(b - a == timedelta(minutes=15) for a, b in pairwise(ticks))


def test_the_result_is_read_from_what_c7n_matched(tmp_path):
    (tmp_path / custodian.POLICY).mkdir()
    resources = [
        {
            "FunctionName": "nightly-batch",
            "c7n.metrics": {"AWS/Lambda.Invocations.Sum.0.0104": [{"Timestamp": "x", "Sum": 240.0}]},
        }
    ]
    (tmp_path / custodian.POLICY / "resources.json").write_text(json.dumps(resources))
    assert custodian.matched(tmp_path) == [{"function": "nightly-batch", "invocations": [240.0]}]
    assert custodian.matched(tmp_path / "nothing") == []


def test_the_stop_is_the_first_tick_after_which_the_function_is_at_zero():
    scenario = Scenario.load()
    runs = [
        {"tick": (LOOP + timedelta(minutes=2)).isoformat(), "published": 3, "reserved": 7},
        {"tick": (LOOP + timedelta(minutes=17)).isoformat(), "published": 15, "reserved": 0},
    ]
    result = custodian.outcome(scenario, LOOP, runs, [])
    assert result["stops_after_s"] == 17 * 60
    assert result["loop_queries"] == 17 * 20
    assert result["usd"] == round(340 * query_usd(scenario), 2)
    assert result["stopped_before_loop"] == []
    never = custodian.outcome(scenario, LOOP, runs[:1], [])
    assert never["stopped_at"] is None and never["usd"] is None
