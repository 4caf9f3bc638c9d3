"""The baselines adapter against moto: folded from the exactly-once counters, idempotent, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from boto3.dynamodb.types import TypeSerializer

from guardrail.adapters.athena_baselines import AthenaBaselines, baseline_item, baseline_key
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.config.athena_watch import Baselines
from guardrail.detectors.athena.baseline import HOUR, Baseline, HourCount
from guardrail.detectors.athena.booking import caller_scope
from guardrail.detectors.athena.query_events import Caller, QueryStarted
from guardrail.detectors.athena.sql import fingerprint

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
CALLER = Caller("arn:aws:iam::123456789012:role/nightly-batch-role", "AssumedRole", "nightly-batch")
SCOPE = caller_scope(CALLER.key)
SQL = "SELECT * FROM sales.orders WHERE shard = {}"


@pytest.fixture
def stores(deployed, moto_patches):
    table = deployed.settings.ledger_table
    counters = AthenaCounters(table, ttl_hours=24 * 7, boto3_session=deployed.session)
    baselines = AthenaBaselines(
        table, Baselines(history_days=3, min_history_days=1), boto3_session=deployed.session
    )
    return counters, baselines, deployed


def start(counters, n: int, at: datetime, sql: str = SQL) -> None:
    counters.record_start(
        QueryStarted(f"e{n}", f"q{n}", at, "us-east-1", "primary", CALLER, query=sql.format(n))
    )


def test_a_baseline_is_folded_from_booked_hours_and_duplicates_count_once(stores):
    counters, baselines, _ = stores
    assert baselines.baseline(SCOPE, T0).since == T0  # first sight: no history yet
    for n in range(6):
        start(counters, n, T0 + timedelta(minutes=5 * n))
        start(counters, n, T0 + timedelta(minutes=5 * n))  # at-least-once delivery: a duplicate
    start(counters, 99, T0 + timedelta(minutes=1), "SELECT 1")
    start(counters, 99, T0 + timedelta(minutes=1), "SELECT 1")
    assert baselines.baseline(SCOPE, T0 + HOUR).hours == {}  # the hour has not settled yet
    baseline = baselines.baseline(SCOPE, T0 + HOUR + timedelta(minutes=20))
    assert baseline.hours == {T0: HourCount(7, 0, frozenset({0, 25}))}  # its first and last minute
    assert baseline.fingerprints == {fingerprint(SQL.format(0)): 6, fingerprint("SELECT 1"): 1}
    # reading again (another event, a retry) folds nothing twice
    assert baselines.baseline(SCOPE, T0 + HOUR + timedelta(minutes=40)) == baseline


def test_late_hours_and_concurrent_folds_write_the_same_record(stores, deployed):
    counters, baselines, _ = stores
    other = AthenaBaselines(
        deployed.settings.ledger_table,
        Baselines(history_days=3, min_history_days=1),
        boto3_session=deployed.session,
    )
    start(counters, 1, T0)
    baselines.baseline(SCOPE, T0)
    start(counters, 2, T0 + 5 * HOUR)
    later = T0 + 6 * HOUR + timedelta(minutes=30)
    first, second = baselines.baseline(SCOPE, later), other.baseline(SCOPE, later)
    once = HourCount(1, 0, frozenset({0}))
    assert first.hours == second.hours == {T0: once, T0 + 5 * HOUR: once}
    assert second.version == first.version


def test_the_record_keeps_history_days_only(stores, deployed):
    counters, baselines, _ = stores
    for day in range(6):
        start(counters, day, T0 + timedelta(days=day))
        baselines.baseline(SCOPE, T0 + timedelta(days=day, minutes=1))
    baseline = baselines.baseline(SCOPE, T0 + timedelta(days=6))
    assert sorted(baseline.hours) == [T0 + timedelta(days=d) for d in (3, 4, 5)]
    item = deployed.session.client("dynamodb").get_item(
        TableName=deployed.settings.ledger_table,
        Key={"pk": {"S": baseline_key(SCOPE)}, "sk": {"S": "BASELINE"}},
    )["Item"]
    assert len(item["hours"]["M"]) == 3


def test_recent_hours_and_statement_runs(stores):
    counters, baselines, _ = stores
    for n in range(3):
        start(counters, n, T0 + timedelta(minutes=50 + 5 * n))  # 00:50, 00:55 ... 01:00
    at = T0 + timedelta(minutes=61)
    assert baselines.recent_hours(SCOPE, at) == {
        T0: HourCount(2, 0, frozenset({50, 55})),  # every minute a query started in
        T0 + HOUR: HourCount(1, 0, frozenset({0})),
    }
    assert baselines.statement_runs(SCOPE, at, fingerprint(SQL.format(0))) == 3
    assert baselines.statement_runs(SCOPE, at + 2 * HOUR, fingerprint(SQL.format(0))) == 0


def test_a_baseline_written_before_minutes_were_kept_reads_with_none(stores, deployed):
    _, baselines, _ = stores
    learned = baseline_item(
        SCOPE, Baseline(since=T0, folded_through=T0, hours={T0: HourCount(3, 9)}), Baselines()
    )
    learned["hours"] = {f"{T0:%Y-%m-%dT%H}": [3, 9]}  # the earlier shape: queries and bytes only
    client = deployed.session.client("dynamodb")
    client.put_item(
        TableName=deployed.settings.ledger_table,
        Item={k: TypeSerializer().serialize(v) for k, v in learned.items()},
    )
    assert baselines.baseline(SCOPE, T0 + timedelta(minutes=10)).hours == {T0: HourCount(3, 9)}


def calls_of(client) -> list[str]:
    """The names of the calls `client` makes from now on."""
    made: list[str] = []
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: made.append(model.name))
    return made


def test_a_fold_after_weeks_idle_reads_no_hour_it_did_not_query_in(stores, deployed):
    counters, _, _ = stores
    client = deployed.session.client("dynamodb")
    baselines = AthenaBaselines(deployed.settings.ledger_table, Baselines(), boto3_client=client)
    start(counters, 1, T0)
    baselines.baseline(SCOPE, T0)
    made = calls_of(client)
    back = T0 + timedelta(days=27)
    start(counters, 2, back)
    folded = baselines.baseline(SCOPE, back + timedelta(minutes=1))
    assert sorted(folded.hours) == [T0]  # the one busy hour learned, 27 days of idle hours skipped
    # one read of the record, one Query of the span's hour buckets, one of the busy hour's statements,
    # one write: not one Query per idle hour
    assert made == ["GetItem", "Query", "Query", "PutItem"]


def test_the_cache_drops_the_baseline_read_longest_ago_not_every_one(stores, deployed, monkeypatch):
    monkeypatch.setattr("guardrail.adapters.athena_baselines.CACHED_SCOPES", 3)
    client = deployed.session.client("dynamodb")
    baselines = AthenaBaselines(deployed.settings.ledger_table, Baselines(), boto3_client=client)
    scopes = [caller_scope(f"caller-{n}@arn:aws:iam::123456789012:role/r") for n in range(4)]
    for scope in scopes[:3]:
        baselines.baseline(scope, T0)
    baselines.baseline(scopes[0], T0)  # read again: now the most recent
    baselines.baseline(scopes[3], T0)  # a fourth: drops scopes[1], read longest ago
    made = calls_of(client)
    for scope in (scopes[0], scopes[2], scopes[3]):
        baselines.baseline(scope, T0)
    assert made == []  # all three still cached
    baselines.baseline(scopes[1], T0)
    assert made == ["GetItem"]
