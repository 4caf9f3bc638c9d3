"""The loops' replay until stopped, what a loop spent, and the bench's budget and acceptance for each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from devtools.bench_loops import MODES, accepted, budget_usd, markdown, usd_per_query
from devtools.loops import BATCH, LOOPS, loop_cost, throttled, until_stopped, usual_end
from guardrail.config import AthenaWatchConfig

CONFIG = AthenaWatchConfig()


def test_after_the_throttle_no_later_query_is_delivered_and_what_was_issued_still_is():
    replay = replace(BATCH, loop_minutes=1)
    looping = [q for q in replay.night_queries() if q.looping]
    seen = []

    def deliver(delivery):
        seen.append(delivery)
        return delivery.query == looping[5] and delivery.event["detail-type"] != "Athena Query State Change"

    stop = until_stopped(replay, deliver)
    assert stop.stopped_at is not None and stop.deliveries == len(seen)
    assert all(d.query.started_at <= stop.stopped_at for d in seen if d.deliver_at > stop.stopped_at)
    assert {q.query_id for q in stop.issued} == {d.query.query_id for d in seen}
    assert stop.issued[-1].started_at <= stop.stopped_at
    # the delivering never throttled: every event of the night, the loop's included
    assert until_stopped(replay, lambda delivery: False).stopped_at is None


def test_a_loops_cost_counts_its_queries_from_its_first_to_the_stop():
    looping = [q for q in BATCH.night_queries() if q.looping]
    spent = loop_cost(BATCH, looping[3].started_at + timedelta(seconds=1), CONFIG)
    assert (spent.after, spent.queries) == (timedelta(seconds=10), 4)
    assert spent.usd == pytest.approx(4 * 0.1139, abs=0.001)
    assert usual_end(BATCH) == BATCH.start + 119 * timedelta(seconds=40)


def test_a_report_throttled_only_when_an_action_was():
    assert throttled({"actions": [{"result": "alerted"}, {"result": "throttled"}]})
    assert not throttled({"actions": [{"result": "already-throttled"}]}) and not throttled({})


def test_each_loops_budget_is_a_dollar_and_on_cloudtrails_word_what_runs_during_its_lag():
    per_query = usd_per_query(BATCH, CONFIG)
    assert per_query == pytest.approx(0.1139, abs=0.0001)
    assert budget_usd(replace(BATCH, guarded=True), CONFIG) == 1.0
    assert budget_usd(BATCH, CONFIG) == pytest.approx(1 + 25 * per_query)  # 75 s of a 3 s loop
    (slow,) = [loop.replay for loop in LOOPS if loop.key == "slow-150s"]
    assert budget_usd(slow, CONFIG) == pytest.approx(1 + per_query / 2)


def test_the_acceptance_is_the_issues():
    fast, guarded = BATCH, replace(BATCH, guarded=True)
    (slow,) = [loop.replay for loop in LOOPS if loop.key == "slow-150s"]
    assert accepted(fast, timedelta(seconds=60), timedelta(0), 5.0)
    assert not accepted(fast, timedelta(seconds=61), timedelta(0), 0.1)
    assert accepted(guarded, timedelta(seconds=15), timedelta(0), 0.99)
    assert not accepted(guarded, timedelta(seconds=12), timedelta(0), 1.0)
    assert accepted(slow, timedelta(hours=5), timedelta(minutes=30), 9.0)
    assert not accepted(slow, timedelta(hours=5), timedelta(minutes=31), 0.5)
    assert not accepted(slow, timedelta(hours=5), timedelta(0), 0.5)  # not before its usual end


def test_the_table_shows_every_loop_in_both_modes_and_a_loop_never_stopped():
    rows = [
        {
            "name": loop.name,
            "known_through": mode.name,
            "loop_every_s": loop.replay.loop_interval_seconds,
            "budget_usd": 1.0,
            "acceptance": "within 15 s",
            "stopped": False,
        }
        for loop in LOOPS
        for mode in MODES
    ]
    rows[0] |= {
        "stopped": True,
        "stopped_after_s": 12.0,
        "past_usual_end_min": 0.0,
        "loop_queries": 4,
        "spent_usd": 0.46,
        "within_budget": True,
        "accepted": True,
        "rules": "acceleration",
        "reason": "4 queries started within 9 s",
    }
    page = "\n".join(markdown({"loop_budget_usd": 1.0, "evidence_usd": 0.5, "rows": rows}))
    assert page.count("| CloudTrail only |") == len(LOOPS) and page.count(
        "| the guard's query starts |"
    ) == len(LOOPS)
    assert (
        f"| {LOOPS[0].name} | CloudTrail only | 12 s | 4 | $0.46 | $1.00 | within 15 s | yes, in budget "
        "| `acceleration` |" in page
    )
    assert page.count("| not stopped |") == 2 * len(LOOPS) - 1
