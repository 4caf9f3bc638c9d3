"""Acceptance: the incident replayed through the handler, against moto and the shared enforcement path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devtools.incident import first_breach
from devtools.replay import IncidentReplay
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.cost import GB, TB, estimate, usd

#: Each test replays a whole 672-query night through the handler (~1,400 events): not in `make check`.
pytestmark = pytest.mark.slow
LIMITS = {"caller": {"maxQueriesPerWindow": 60, "maxQueriesPerDay": 1000, "maxCostPerDayUsd": 200}}
#: The fixed limits alone: no loop signature, not even `acceleration` (see test_acceleration.py).
FIXED_ONLY = {**LIMITS, "baselines": {"enabled": False}}


def test_incident_is_throttled_within_two_minutes_with_the_cross_region_finding(watch_replay):
    watched = watch_replay(IncidentReplay(), FIXED_ONLY)
    breach = first_breach(watched.replay, AthenaWatchConfig.parse(LIMITS))
    stopped_at = watched.until_stopped().stopped_at

    assert breach is not None and stopped_at is not None
    delay = stopped_at - breach
    assert timedelta(0) <= delay <= timedelta(minutes=2), delay
    assert watched.deployed.reservation("nightly-batch") == 0

    alerts = watched.deployed.alerts()
    throttled = [a["Document"] for a in alerts if a["Document"]["event_type"] == "throttled"]
    assert len(throttled) == 1
    document = throttled[0]
    assert document["function"] == "nightly-batch"
    assert document["detector"] == "athena-watch"
    assert "query-rate" in document["evidence"]["rules"]
    cross = document["evidence"]["cross_region"]
    assert cross["data_regions"] == ["ap-northeast-1"]
    assert cross["transferred_gb_last_24_h"] > 0
    assert document["evidence"]["recent_query_ids"]
    notices = [a["Document"] for a in alerts if a["Document"]["event_type"] == "alerted"]
    assert [n["evidence"]["rules"] for n in notices] == ["cross-region"]

    spent = [q for q in watched.replay.queries() if q.started_at <= stopped_at]
    looped = [q for q in spent if q.looping]
    dollars = sum(
        estimate(q.scanned_bytes, cross_region=True, usd_per_tb=5.0, transfer_usd_per_gb=0.09).total_micros
        for q in spent
    )
    print(
        f"\nincident replay: rate left the limits at {breach:%H:%M:%S}, throttled at {stopped_at:%H:%M:%S} "
        f"(+{delay.total_seconds():.0f} s); {len(spent)} queries ({len(looped)} in the loop), "
        f"{sum(q.scanned_bytes for q in spent) / TB:.2f} TB scanned, ${usd(dollars):,.2f} "
        f"(loop alone: {sum(q.scanned_bytes for q in looped) / GB:.0f} GB)"
    )


def test_a_legitimate_night_of_672_queries_is_never_throttled(watch_replay):
    watched = watch_replay(IncidentReplay(loop_minutes=0), LIMITS)
    assert first_breach(watched.replay, AthenaWatchConfig.parse(LIMITS)) is None
    assert watched.until_stopped().stopped_at is None
    assert watched.deployed.reservation("nightly-batch") == 5
    counted = [r for r in watched.reports if r["status"] == "counted"]
    assert len(counted) == 2 * 672
    event_types = {a["Document"]["event_type"] for a in watched.deployed.alerts()}
    assert event_types == {"alerted"}  # the daily cross-region notice, nothing else
