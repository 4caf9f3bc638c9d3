"""The Athena watch in ap-northeast-1 counting, learning and stopping query loops that run in us-west-2."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devtools.fleet import MEMBER
from devtools.history import learned_items, write_items
from devtools.incident import QueryStatistics, build_world, store_tables
from devtools.replay import SIGNALS
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.config import AthenaWatchConfig
from guardrail.detectors.athena.booking import caller_scope, placed
from guardrail.handlers.composition import build_watch
from tests.conftest import ACCOUNT, Clock
from tests.integration.detectors.athena.learned_reads import CALLER, NIGHTS, empty, reads

from .conftest import HOME, OREGON, OREGON_LOOP, Fleet

pytestmark = pytest.mark.slow  # an organization deployed into moto for each test


@pytest.mark.parametrize("account", [ACCOUNT, MEMBER], ids=["home-account", "member-account"])
def test_a_query_loop_in_oregon_is_counted_in_its_place_and_throttled_from_tokyo(
    fleet: Fleet, alerts, account
):
    scenario = OREGON_LOOP.model_copy(update={"account": account, "member_accounts": (MEMBER,)})
    replay = scenario.replay
    oregon = fleet.account(account, OREGON)
    build_world(oregon, scenario)
    if account == MEMBER:
        fleet.member_role(MEMBER)  # the member stack's enforcement role: the throttle goes through it
    queries = AthenaQueries(boto3_client=QueryStatistics(replay))
    watch = build_watch(fleet.settings, session=fleet.session, queries=queries)
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
    assert fleet.reservation(account, OREGON, "nightly-batch") == 0
    [alert] = [a for a in alerts() if a["event_type"] == "throttled"]
    assert (alert["account"], alert["region"], alert["function"]) == (account, OREGON, "nightly-batch")
    assert alert["prior_reserved_concurrency"] == 7


def test_learning_nights_in_oregon_written_in_a_batch_read_as_if_replayed_from_tokyo(fleet: Fleet):
    nights = replace(NIGHTS, athena_region=OREGON, data_region=HOME)
    store_tables(fleet.account(fleet.settings.account, OREGON), nights)
    clock = Clock(nights.start)
    queries = AthenaQueries(boto3_client=QueryStatistics(nights))
    watch = build_watch(fleet.settings, session=fleet.session, clock=clock, queries=queries)
    for delivery in nights.deliveries():
        if delivery.bus != SIGNALS and delivery.query.started_at < nights.start:
            clock.now = delivery.deliver_at
            assert watch.handle(delivery.event).status in {"counted", "duplicate"}
    away = (fleet.settings.account, OREGON)
    replayed = reads(fleet, nights, away)
    assert replayed[f"{caller_scope(placed(CALLER, away))} totals 90"].day_queries > 0
    assert reads(fleet, nights)[f"{caller_scope(CALLER)} totals 90"].day_queries == 0  # not Tokyo's

    empty(fleet)
    write_items(
        fleet.session, fleet.settings.ledger_table, learned_items(nights, AthenaWatchConfig(), away=True)
    )
    assert reads(fleet, nights, away) == replayed
