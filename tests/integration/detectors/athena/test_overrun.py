"""Acceptance: a loop at the batch's own pace, going on past its learned window (issue 22's last row).

The batch runs one statement for every query, one every 150 s, 00:00-04:07 each night; two weeks of
it are learned (written in one batch, `devtools.history`). Tonight an error keeps it going at the same
pace: no statement count, rate or pace leaves its baseline; only the run's length does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from devtools.loops import LOOPS, usual_end
from devtools.replay import IncidentReplay
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.pacing import EVIDENCE_USD, SHORTEST_MARGIN_MINUTES, paced_margin_minutes

pytestmark = pytest.mark.slow  # two weeks learned and a night replayed event by event

(NIGHT,) = [loop.replay for loop in LOOPS if loop.key == "slow-150s"]


def replayed(watch_replay, replay: IncidentReplay):
    """The night delivered after its learned fortnight; the time of the throttle, if any."""
    watched = watch_replay(replay, {})
    watched.learn_nights()
    return watched, watched.until_stopped().stopped_at


def test_a_loop_at_the_batchs_pace_is_stopped_within_half_an_hour_of_its_usual_end(watch_replay):
    watched, stopped_at = replayed(watch_replay, NIGHT)
    end = usual_end(NIGHT)

    assert stopped_at is not None
    assert end < stopped_at <= end + timedelta(minutes=30), stopped_at - end
    (throttled,) = [
        a["Document"] for a in watched.deployed.alerts() if a["Document"]["event_type"] == "throttled"
    ]
    assert throttled["function"] == "nightly-batch"
    assert throttled["evidence"]["rules"] == "overrun"
    (signature,) = throttled["evidence"]["loop_signatures"]
    learned = signature["baseline_left"]
    # the learned window and the run's size, as the alert shows them
    assert (learned["usual_start_utc"], learned["usual_end_utc"]) == ("00:00", f"{end:%H:%M}")
    assert (learned["runs_compared"], learned["spread_minutes"]) == (14, 0)
    # the margin: what the evidence budget buys at the run's own spend (1.2 GB across regions every 150 s)
    assert learned["evidence_budget_usd"] == EVIDENCE_USD
    assert learned["margin_minutes"] == round(paced_margin_minutes(learned["usd_per_minute"]))
    assert (
        SHORTEST_MARGIN_MINUTES
        <= learned["margin_minutes"]
        < AthenaWatchConfig().baselines.after_window_grace_minutes
    )
    assert learned["usual_queries_at_most"] == NIGHT.batch_queries
    assert datetime.fromisoformat(learned["run_started_at"]) == NIGHT.start
    assert learned["run_queries"] > NIGHT.batch_queries
    past = (stopped_at - end).total_seconds() / 60
    print(f"\nslow loop past its window: stopped {past:.1f} min past it")


def test_the_same_night_ending_on_time_is_neither_throttled_nor_told_of_an_overrun(watch_replay):
    watched, stopped_at = replayed(watch_replay, replace(NIGHT, loop_minutes=0))
    assert stopped_at is None
    rules = {a["Document"]["evidence"].get("rules") for a in watched.deployed.alerts()}
    assert rules == {"cross-region"}
