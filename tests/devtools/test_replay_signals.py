"""The replay's guarded batch tells the signal bus of each query, half a second late; history is optional."""

from __future__ import annotations

from datetime import timedelta

from devtools.replay import SIGNALS, IncidentReplay

GUARDED = IncidentReplay(batch_queries=30, loop_minutes=2, history_nights=1, guarded=True)


def test_each_query_of_a_guarded_batch_is_told_on_the_signal_bus_within_its_lag():
    claims = [d for d in GUARDED.deliveries() if d.bus == SIGNALS]
    assert {d.query.query_id for d in claims} == {q.query_id for q in GUARDED.queries()}
    assert all(d.event["detail-type"] == "Athena Query Started" for d in claims)
    lags = [d.deliver_at - d.query.started_at for d in claims]
    assert min(lags) >= timedelta(seconds=0.3) and max(lags) <= timedelta(seconds=0.8)
    assert all(d.event["detail"]["query_execution_id"] == d.query.query_id for d in claims)
    depths = [d.event["detail"]["depth"] for d in claims if d.query.started_at >= GUARDED.start]
    assert sorted(set(depths)) == list(range(1, len(GUARDED.night_queries()) + 1))


def test_an_unguarded_batch_tells_nothing_and_the_incidents_night_can_come_alone():
    unguarded = IncidentReplay(batch_queries=30, loop_minutes=2, history_nights=1)
    assert not [d for d in unguarded.deliveries() if d.bus != "default"]
    night = GUARDED.deliveries(history=False)
    assert night and min(d.query.started_at for d in night) == GUARDED.start
    assert len(GUARDED.history_queries()) == 30
    earlier = [d for d in GUARDED.deliveries() if d.query.started_at < GUARDED.start]
    assert len(night) + len(earlier) == len(GUARDED.deliveries())
