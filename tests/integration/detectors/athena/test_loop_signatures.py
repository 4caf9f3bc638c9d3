"""Loop signatures through the handler: a learned caller's slow loop is stopped; a new caller is not.

A short batch (120 queries, one every 40 s) keeps the replay small; its loop runs at the batch's own
pace, under every fixed limit. The learned caller's two nights are written in one batch
(`devtools.history`, held equal to replaying them by `test_learned_history.py`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from devtools.history import learned_items, write_items
from devtools.replay import IncidentReplay
from guardrail.config import AthenaWatchConfig

#: Each test replays a night of ~400 events through the handler: not in `make check`.
pytestmark = pytest.mark.slow
SLOW_LOOP = IncidentReplay(batch_queries=120, loop_interval_seconds=40, loop_minutes=20)
DEFAULTS: dict[str, object] = {}


def run(watched):
    """Deliver the night's events in order; a throttled function issues no more queries. Return the stop time.

    The learning nights before it, if any, are written in one batch first.
    """
    if watched.replay.history_nights:
        items = learned_items(watched.replay, AthenaWatchConfig())
        write_items(watched.deployed.session, watched.deployed.settings.ledger_table, items)
    stopped_at = None
    for delivery in watched.replay.deliveries(history=False):
        if stopped_at is not None and delivery.query.started_at > stopped_at:
            continue
        watched.deployed.clock.now = delivery.deliver_at
        report = watched.deliver(delivery.event)
        if stopped_at is None and any(a["result"] == "throttled" for a in report.get("actions", [])):
            stopped_at = delivery.deliver_at
    return stopped_at


def loop_start(replay: IncidentReplay):
    return next(q.started_at for q in replay.queries() if q.looping)


def test_a_slow_loop_of_a_learned_caller_is_throttled_by_its_repeated_statement(watch_replay):
    replay = IncidentReplay(**{**SLOW_LOOP.__dict__, "history_nights": 2})
    watched = watch_replay(replay, DEFAULTS)
    stopped_at = run(watched)
    assert stopped_at is not None, "the slow loop was never throttled"
    assert stopped_at - loop_start(replay) <= timedelta(minutes=5)
    assert watched.deployed.reservation("nightly-batch") == 0
    throttled = [
        a["Document"] for a in watched.deployed.alerts() if a["Document"]["event_type"] == "throttled"
    ]
    assert len(throttled) == 1
    evidence = throttled[0]["evidence"]
    assert "repeated-statement" in evidence["rules"]
    (signature,) = [s for s in evidence["loop_signatures"] if s["signature"] == "repeated-statement"]
    assert signature["baseline_left"]["usual_max_per_hour"] == 1
    assert signature["baseline_left"]["runs_last_2_h"] == 6


def test_a_caller_without_history_is_held_to_the_fixed_limits_only(watch_replay):
    watched = watch_replay(SLOW_LOOP, DEFAULTS)
    assert run(watched) is None  # the same loop, under every fixed limit, with nothing learned yet
    assert watched.deployed.reservation("nightly-batch") == 5
    documents = [a["Document"] for a in watched.deployed.alerts()]
    assert not [d for d in documents if "loop_signatures" in d["evidence"]]
