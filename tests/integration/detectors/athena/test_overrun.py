"""Acceptance: a loop at the batch's own pace, going on past its learned window (issue 22's last row).

The batch runs one statement for every query, one every 150 s, 00:00-04:07 each night; two weeks of
it are learned (written in one batch, `devtools.history`). Tonight an error keeps it going at the same
pace: no statement count, rate or pace leaves its baseline; only the run's length does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from devtools.history import learned_items, write_items
from devtools.replay import IncidentReplay
from guardrail.config import AthenaWatchConfig

NIGHT = IncidentReplay(
    batch_queries=100,
    batch_interval_seconds=150,
    loop_interval_seconds=150,
    loop_minutes=45,
    history_nights=14,
    one_statement=True,
)


def replayed(watch_replay, replay: IncidentReplay):
    """The night delivered after its learned fortnight; the time of the throttle, if any."""
    watched = watch_replay(replay, {})
    items = learned_items(watched.replay, AthenaWatchConfig())
    write_items(watched.deployed.session, watched.deployed.settings.ledger_table, items)
    stopped_at = None
    for delivery in watched.replay.deliveries(history=False):
        if stopped_at is not None and delivery.query.started_at > stopped_at:
            continue  # reserved concurrency 0: the function never ran to issue this query
        watched.deployed.clock.now = delivery.deliver_at
        report = watched.deliver(delivery.event)
        if stopped_at is None and any(a["result"] == "throttled" for a in report.get("actions", [])):
            stopped_at = delivery.deliver_at
    return watched, stopped_at


def test_a_loop_at_the_batchs_pace_is_stopped_within_half_an_hour_of_its_usual_end(watch_replay):
    watched, stopped_at = replayed(watch_replay, NIGHT)
    usual_end = NIGHT.start + (NIGHT.batch_queries - 1) * timedelta(seconds=NIGHT.batch_interval_seconds)

    assert stopped_at is not None
    assert usual_end < stopped_at <= usual_end + timedelta(minutes=30), stopped_at - usual_end
    (throttled,) = [
        a["Document"] for a in watched.deployed.alerts() if a["Document"]["event_type"] == "throttled"
    ]
    assert throttled["function"] == "nightly-batch"
    assert throttled["evidence"]["rules"] == "overrun"
    (signature,) = throttled["evidence"]["loop_signatures"]
    learned = signature["baseline_left"]
    # the learned window and the run's size, as the alert shows them
    assert (learned["usual_start_utc"], learned["usual_end_utc"]) == ("00:00", f"{usual_end:%H:%M}")
    assert (learned["runs_compared"], learned["margin_minutes"]) == (14, 15)
    assert learned["usual_queries_at_most"] == NIGHT.batch_queries
    assert datetime.fromisoformat(learned["run_started_at"]) == NIGHT.start
    assert learned["run_queries"] > NIGHT.batch_queries
    past = (stopped_at - usual_end).total_seconds() / 60
    print(f"\nslow loop past its window: stopped {past:.1f} min past it")


def test_the_same_night_ending_on_time_is_neither_throttled_nor_told_of_an_overrun(watch_replay):
    watched, stopped_at = replayed(watch_replay, replace(NIGHT, loop_minutes=0))
    assert stopped_at is None
    rules = {a["Document"]["evidence"].get("rules") for a in watched.deployed.alerts()}
    assert rules == {"cross-region"}
