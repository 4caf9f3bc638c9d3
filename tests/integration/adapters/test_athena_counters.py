"""The counters adapter against moto: what it writes, races it loses and retries, errors it translates.

moto pages a Query only past 1 MB, so window paging and the contention limit use botocore's Stubber on
an injected client. A race is staged by a rival adapter writing just before this one's first UpdateItem
(the record's conditional write).
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import Stubber

from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import ATTEMPTS, AthenaCounters
from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.booking import CountingContention, QueryRecord, caller_scope, workgroup_scope
from guardrail.detectors.athena.cost import QueryCost
from guardrail.detectors.athena.detect import Totals
from guardrail.detectors.athena.query_events import Caller, QueryFinished, QueryStarted
from guardrail.detectors.athena.sql import fingerprint
from guardrail.errors import AwsCallFailed, GuardrailError
from tests.conftest import offline_client
from tests.integration.enforcement.faults import Crash, Faults

AT = datetime(2026, 11, 28, 2, 10, 30, tzinfo=UTC)
CALLER = Caller("arn:aws:sts::123456789012:assumed-role/r/nightly-batch", "AssumedRole", "nightly-batch")
STARTED = QueryStarted("e1", "q1", AT, "us-east-1", "primary", CALLER)
FINISHED = QueryFinished("e2", "q1", AT + timedelta(seconds=20), "us-east-1", "primary", "SUCCEEDED")
COST = QueryCost(scanned_bytes=5_000, cross_region_bytes=5_000, scan_micros=700, transfer_micros=40)
REMOTE = frozenset({"ap-northeast-1"})


@pytest.fixture
def counters(deployed):
    return AthenaCounters(deployed.settings.ledger_table, ttl_hours=1, boto3_session=deployed.session)


def day(counters, scope):
    return counters.totals(scope, FINISHED.at, window_minutes=5)


@pytest.mark.parametrize("start_first", [True, False])
def test_both_orders_book_the_same_totals_and_duplicates_change_nothing(counters, start_first):
    def start():
        return counters.record_start(STARTED)

    def finish():
        return counters.record_finish(FINISHED, COST, REMOTE)

    first, second = (start, finish) if start_first else (finish, start)
    first(), second()
    assert (start(), finish().counted) == (False, False)

    caller, workgroup = day(counters, caller_scope(CALLER.key)), day(counters, workgroup_scope("primary"))
    for totals in (caller, workgroup):
        assert (totals.window_queries, totals.day_queries) == (1, 1)
        assert (totals.day_scanned_bytes, totals.day_cost_micros) == (5_000, 740)
        assert (totals.day_transfer_micros, totals.day_cross_region_bytes) == (40, 5_000)
        assert (totals.remote_regions, totals.recent_query_ids) == (REMOTE, ("q1",))
    record = counters.query("q1")
    assert record is not None
    assert (record.caller, record.started_at, record.finished_at) == (CALLER, AT, FINISHED.at)
    assert record.spend is not None and (record.spend.cost, record.spend.remote_regions) == (COST, REMOTE)


def test_a_finish_reports_the_caller_it_billed(counters):
    assert counters.record_finish(FINISHED, COST, REMOTE).caller is None  # no start yet: nobody billed
    assert counters.query("q1").caller is None
    other = QueryFinished("e3", "q2", AT, "us-east-1", "primary", "SUCCEEDED")
    counters.record_start(QueryStarted("e4", "q2", AT, "us-east-1", "primary", CALLER))
    assert counters.record_finish(other, COST, frozenset()).caller == CALLER


def test_items_expire_a_ttl_after_the_latest_half(counters, deployed):
    counters.record_start(STARTED)
    counters.record_finish(FINISHED, COST, REMOTE)
    table = deployed.session.resource("dynamodb").Table(deployed.settings.ledger_table)
    item = table.get_item(Key={"pk": "ATHENA#QUERY#q1", "sk": "QUERY"})["Item"]
    assert item["expires_at"] == int((FINISHED.at + timedelta(hours=1)).timestamp())
    assert item["regions"] == set(REMOTE) and item["caller_function"] == "nightly-batch"


def test_a_lost_race_is_planned_again_and_the_bytes_still_reach_the_caller(counters, deployed):
    """The finish lands between the start's read and its write: the start's conditional write fails,
    and its second plan books the bytes to the caller (its own client never saw the finish)."""
    rival = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    raced = []

    def finish_first(**_):
        if not raced:
            raced.append(rival.record_finish(FINISHED, COST, REMOTE))

    counters._client.meta.events.register("before-call.dynamodb.UpdateItem", finish_first)
    assert counters.record_start(STARTED) is True
    assert raced[0].counted and raced[0].caller is None
    assert day(counters, caller_scope(CALLER.key)).day_scanned_bytes == 5_000
    assert day(counters, caller_scope(CALLER.key)).day_queries == 1


NAMED = Caller("arn:aws:iam::123456789012:role/payments-api-role", "AssumedRole", "payments-api")
CLAIM = QueryStarted("e5", "q1", AT, "us-east-1", "primary", NAMED, claimed=True)


def test_cloudtrail_naming_another_caller_than_the_claim_is_booked_for_its_own_caller_once(counters):
    assert counters.record_start(CLAIM) is True
    assert counters.record_finish(FINISHED, COST, REMOTE).caller == NAMED

    assert counters.record_start(STARTED) is True  # CloudTrail's record: another caller
    assert counters.record_start(STARTED) is False  # its duplicate
    assert counters.record_start(CLAIM) is False  # and the claim again

    record = counters.query("q1")
    assert record is not None and (record.caller, record.claimed) == (CALLER, False)
    real = day(counters, caller_scope(CALLER.key))
    assert (real.day_queries, real.day_scanned_bytes) == (1, 5_000)  # the query and its bytes
    assert day(counters, caller_scope(NAMED.key)).day_queries == 1  # what the claim added stays its own


def test_a_claim_confirmed_by_cloudtrail_is_a_duplicate_and_keeps_one_count(counters):
    counters.record_start(QueryStarted("e5", "q1", AT, "us-east-1", "primary", CALLER, claimed=True))
    assert counters.record_start(STARTED) is False
    assert day(counters, caller_scope(CALLER.key)).day_queries == 1


def test_a_cloudtrail_record_racing_another_is_written_over_the_claim_once(counters, deployed):
    """Two deliveries of CloudTrail's record plan on the claimed record at once: one writes, the
    other's condition (still the claimed caller, still a claim) fails and its second plan is a duplicate."""
    counters.record_start(CLAIM)
    rival = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    raced = []

    def rival_first(**_):
        if not raced:
            raced.append(rival.record_start(STARTED))

    counters._client.meta.events.register("before-call.dynamodb.UpdateItem", rival_first)
    assert counters.record_start(STARTED) is False
    assert raced == [True]
    assert day(counters, caller_scope(CALLER.key)).day_queries == 1


def stubbed() -> tuple[AthenaCounters, Stubber]:
    client = offline_client("dynamodb")
    return AthenaCounters("ledger", boto3_client=client), Stubber(client)


def test_a_record_that_keeps_changing_raises_counting_contention():
    counters, stub = stubbed()
    for _ in range(ATTEMPTS):
        stub.add_response("get_item", {})
        stub.add_client_error("update_item", "ConditionalCheckFailedException", "the record changed")
    with stub, pytest.raises(CountingContention, match="q1"):
        counters.record_start(STARTED)
    stub.assert_no_pending_responses()


def test_other_failures_escape_as_aws_call_failed_without_retrying():
    counters, stub = stubbed()
    stub.add_response("get_item", {})
    stub.add_client_error("update_item", "ValidationException", "bad expression")
    with stub, pytest.raises(AwsCallFailed) as failed:
        counters.record_finish(FINISHED, COST, REMOTE)
    assert (failed.value.code, failed.value.message) == ("ValidationException", "bad expression")
    stub.assert_no_pending_responses()


def test_totals_follow_every_page_of_the_window_query():
    counters, stub = stubbed()
    last_key = {"pk": {"S": "ATHENA#CALLER#x"}, "sk": {"S": "M#2026-11-28T02:08"}}
    stub.add_response(
        "query", {"Items": [{"queries": {"N": "2"}, "ids": {"SS": ["a"]}}], "LastEvaluatedKey": last_key}
    )
    stub.add_response("query", {"Items": [{"queries": {"N": "3"}, "ids": {"SS": ["b"]}}]})
    stub.add_response("query", {"Items": [{"queries": {"N": "9"}}], "LastEvaluatedKey": last_key})
    stub.add_response("query", {"Items": [{"queries": {"N": "1"}, "cost": {"N": "7"}}]})
    with stub:
        totals = counters.totals("ATHENA#CALLER#x", AT, window_minutes=5)
    assert (totals.window_queries, totals.recent_query_ids) == (5, ("a", "b"))
    assert (totals.day_queries, totals.day_cost_micros) == (10, 7)
    stub.assert_no_pending_responses()


@pytest.mark.slow  # a thousand queries booked in one minute
def test_a_minute_bucket_stays_small_whatever_the_rate_and_keeps_each_start_second(counters, deployed):
    for index in range(300):  # five a second, every second of one minute
        at = AT.replace(second=0) + timedelta(seconds=index // 5)
        started = QueryStarted(f"e{index}", f"query-{index:04d}", at, "us-east-1", "primary", CALLER)
        counters.record_start(started)
    scope = caller_scope(CALLER.key)
    client = deployed.session.client("dynamodb")
    bucket = client.get_item(
        TableName=deployed.settings.ledger_table, Key={"pk": {"S": scope}, "sk": {"S": "M#2026-11-28T02:10"}}
    )["Item"]
    assert bucket["queries"] == {"N": "300"}
    assert "ids" not in bucket and len(bucket["secs"]["NS"]) == 60
    totals = counters.totals(scope, AT, window_minutes=5)
    assert totals.window_queries == 300
    assert totals.starts == tuple(AT.replace(second=s) for s in range(60))
    assert totals.recent_query_ids == (bucket["last"]["S"],)


def test_a_pace_is_noted_only_when_busier_and_only_on_a_booked_hour(counters):
    scope = caller_scope(CALLER.key)
    counters.note_pace(scope, AT, 500)  # no booking in the hour yet: nothing is created
    assert counters.totals(scope, AT, window_minutes=5) == Totals()
    counters.record_start(STARTED)
    counters.note_pace(scope, AT, 90)
    counters.note_pace(scope, AT, 60)  # less busy: kept as it was, and no error
    assert counters.totals(scope, AT, window_minutes=5).hour_pace == 90
    counters.note_pace(scope, AT, 120)
    later = counters.totals(scope, AT + timedelta(hours=1), window_minutes=5)
    assert (later.hour_pace, later.earlier_pace) == (0, 120)
    assert later.earlier_starts == 1  # the starts of the hour it was read from (no read of its own)


def _booked(counters: AthenaCounters, index: int, *, start_first: bool) -> tuple[str, str]:
    """Book both halves of one query of its own caller and workgroup; their counter scopes."""
    caller = Caller(f"arn:aws:sts::123456789012:assumed-role/r/fn-{index}", "AssumedRole", f"fn-{index}")
    started = QueryStarted(f"s{index}", f"q{index}", AT, "us-east-1", f"wg-{index}", caller, "SELECT 1")
    finished = QueryFinished(f"f{index}", f"q{index}", FINISHED.at, "us-east-1", f"wg-{index}", "SUCCEEDED")
    halves = [
        lambda: counters.record_start(started),
        lambda: counters.record_finish(finished, COST, REMOTE, "SELECT 1"),
    ]
    for half in halves if start_first else halves[::-1]:
        with suppress(Crash, GuardrailError):  # the delivery failed: Lambda delivers it again
            half()
    return caller_scope(caller.key), workgroup_scope(f"wg-{index}")


def _counted(counters: AthenaCounters, deployed, scopes: tuple[str, str]) -> list[tuple[int, ...]]:
    runs = AthenaBaselines(deployed.settings.ledger_table, Baselines(), boto3_session=deployed.session)
    found = []
    for scope in scopes:
        totals = day(counters, scope)
        statement = runs.statement_runs(scope, AT, fingerprint("SELECT 1"))
        found.append((totals.window_queries, totals.day_queries, totals.day_scanned_bytes, statement))
    return found


@pytest.mark.slow  # every call of a booking failed in turn, both orders
@pytest.mark.parametrize("start_first", [True, False], ids=["start-first", "finish-first"])
def test_a_booking_failed_at_any_call_counts_each_counter_once_after_its_redelivery(deployed, start_first):
    """A failed counter write notes the rest as owed on the record; the next delivery adds them."""
    faults = Faults(deployed.session)
    counters = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    with faults.armed() as clean:
        clean_scopes = _booked(counters, 0, start_first=start_first)
    path, expected = list(clean.calls), _counted(counters, deployed, clean_scopes)
    assert expected == [(1, 1, 5_000, 1), (1, 1, 5_000, 1)]
    assert path.count("dynamodb.TransactWriteItems") == 0

    owed = 0
    for index, call in enumerate(path, start=1):
        with faults.armed(fail_at=index - 1):
            _booked(counters, index, start_first=start_first)
        owed += bool(counters.query(f"q{index}").owed)
        scopes = _booked(counters, index, start_first=start_first)  # every half delivered again
        assert _counted(counters, deployed, scopes) == expected, f"failed at {call} ({index - 1} of {path})"
        assert counters.query(f"q{index}").owed == ()
    # a failed counter write of the second half leaves a note (4 counters after a start: the caller's
    # bytes; 3 after a finish); the first half's are added by the second half's delivery at once
    assert owed == (4 if start_first else 3)


@pytest.mark.slow  # every call of a booking crashed after in turn
def test_a_delivery_killed_between_its_writes_never_counts_twice(deployed):
    """A delivery that dies (a timeout) after the record's write leaves counters unadded: the
    documented limit. None is ever added twice, and the record stays booked."""
    faults = Faults(deployed.session)
    counters = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    with faults.armed() as clean:
        _booked(counters, 0, start_first=True)
    short = set()
    for index in range(1, len(clean.calls) + 1):
        with faults.armed(crash_after=index - 1):
            _booked(counters, index, start_first=True)
        scopes = _booked(counters, index, start_first=True)
        for counted in _counted(counters, deployed, scopes):
            assert all(0 <= n <= full for n, full in zip(counted, (1, 1, 5_000, 1), strict=True)), index
            if counted != (1, 1, 5_000, 1):
                short.add(clean.calls[index - 1])
        assert counters.query(f"q{index}").finished_at == FINISHED.at
    # the limit, as documented: killed right after the record's write or a counter's, never elsewhere
    assert short == {"dynamodb.UpdateItem"}


def test_of_two_deliveries_settling_one_owed_note_one_adds_it(counters, deployed):
    faults = Faults(deployed.session)
    failing = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    with faults.armed(fail_at=2), pytest.raises(AwsCallFailed):  # GetItem, the record, then a counter
        failing.record_start(STARTED)
    assert counters.query("q1").owed != ()
    rival = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    raced = []

    def rival_first(**_):
        if not raced:
            raced.append(rival.settled("q1"))

    counters._client.meta.events.register("before-call.dynamodb.UpdateItem", rival_first)
    assert counters.settled("q1").owed == ()
    assert raced[0].owed == ()
    assert day(counters, caller_scope(CALLER.key)).window_queries == 1
    assert day(counters, caller_scope(CALLER.key)).day_queries == 1


def test_a_booking_notes_its_half_decided_and_a_failed_counter_takes_the_note_back(counters, deployed):
    counters.record_finish(FINISHED, COST, REMOTE)
    assert counters.query("q1").decided == {"finish"}
    faults = Faults(deployed.session)
    failing = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    with faults.armed(fail_at=2), pytest.raises(AwsCallFailed):  # GetItem, the record, then a counter
        failing.record_start(STARTED)
    record = counters.query("q1")
    assert record.started and record.owed != ()
    assert record.decided == {"finish"}  # the start's retry decides again
    counters.mark_decided("q1", "start")
    counters.undecided("q1", "finish")
    assert counters.query("q1").decided == {"start"}


def test_a_finish_plans_on_the_record_its_caller_read_and_reads_it_again_only_when_it_changed(
    counters, deployed
):
    faults = Faults(deployed.session)
    reading = AthenaCounters(deployed.settings.ledger_table, boto3_session=deployed.session)
    with faults.armed() as calls:
        assert reading.record_finish(FINISHED, COST, REMOTE, read=QueryRecord()).counted
    assert "dynamodb.GetItem" not in calls.calls

    counters.record_start(QueryStarted("e4", "q2", AT, "us-east-1", "primary", CALLER))
    other = QueryFinished("e3", "q2", AT, "us-east-1", "primary", "SUCCEEDED")
    with faults.armed() as calls:  # read before the start was booked: its condition fails, read again
        assert reading.record_finish(other, COST, REMOTE, read=QueryRecord()).caller == CALLER
    assert calls.calls.count("dynamodb.GetItem") == 1
    assert day(counters, caller_scope(CALLER.key)).day_scanned_bytes == 5_000
