"""The Athena watch in ap-northeast-1 counting and stopping a query loop that runs in us-west-2."""

from __future__ import annotations

from devtools.incident import QueryStatistics, build_world
from devtools.replay import SIGNALS
from devtools.scenario import Scenario
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.handlers.composition import build_watch

from .conftest import HOME, OREGON, Fleet

#: The incident's loop with no batch before it: a query every 3 s, over the 60-a-window limit in 3 min.
SCENARIO = Scenario(
    athena_region=OREGON,
    data_region=HOME,
    reserved_concurrency=7,
    batch_queries=0,
    loop_minutes=10,
    duplicate_share=0.05,
)


def test_a_query_loop_in_oregon_is_counted_in_its_place_and_throttled_from_tokyo(fleet: Fleet, alerts):
    replay = SCENARIO.replay
    oregon = fleet.account(fleet.settings.account, OREGON)
    build_world(oregon, SCENARIO)
    settings = fleet.settings
    watch = build_watch(
        settings, session=fleet.session, queries=AthenaQueries(boto3_client=QueryStatistics(replay))
    )
    counted, throttled = 0, []
    for delivery in replay.deliveries():
        if delivery.bus == SIGNALS:
            continue
        report = watch.handle(delivery.event)
        counted += report.status == "counted"
        throttled += [a for a in report.actions if a["result"] == "throttled"]
        if throttled:
            break
    assert throttled, f"no throttle after {counted} bookings"
    assert [a["rules"] for a in throttled] == ["query-rate"]
    assert fleet.reservation(settings.account, OREGON, "nightly-batch") == 0
    [alert] = [a for a in alerts() if a["event_type"] == "throttled"]
    assert (alert["account"], alert["region"], alert["function"]) == (
        settings.account,
        OREGON,
        "nightly-batch",
    )
    assert alert["prior_reserved_concurrency"] == 7
