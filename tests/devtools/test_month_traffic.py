"""The month's legitimate traffic has the shape the bench claims: weekdays, bursts, late starts, month end."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from devtools.month_traffic import ANALYST_ROLE, MONDAY, SATURDAY, MonthTraffic
from guardrail.detectors.athena.sql import fingerprint

TRAFFIC = MonthTraffic()
QUERIES = TRAFFIC.queries()


def by_job(job):
    return [q for q in QUERIES if q.job == job]


def test_the_month_runs_30_days_in_start_order_from_a_sunday():
    starts = [q.query.started_at for q in QUERIES]
    assert starts == sorted(starts)
    assert TRAFFIC.start.weekday() == 6
    assert starts[0].date() == TRAFFIC.start.date()
    assert starts[-1] < TRAFFIC.start + timedelta(days=30)
    assert len({q.query.query_id for q in QUERIES}) == len(QUERIES)


def test_analysts_work_weekdays_in_office_hours_only():
    analysts = by_job("analysts")
    assert {q.caller for q in analysts} == set(TRAFFIC.analysts)
    assert all(q.query.started_at.weekday() < SATURDAY for q in analysts)
    assert all(8 <= q.query.started_at.hour < 18 for q in analysts)
    assert {q.query.started_at.weekday() for q in analysts} == {0, 1, 2, 3, 4}


def test_mondays_nine_to_ten_is_a_burst_over_twice_the_average_office_hour():
    per_hour = Counter((q.query.started_at.date(), q.query.started_at.hour) for q in by_job("analysts"))
    monday_nines = [n for (day, hour), n in per_hour.items() if day.weekday() == MONDAY and hour == 9]
    others = [n for (day, hour), n in per_hour.items() if not (day.weekday() == MONDAY and hour == 9)]
    assert len(monday_nines) == 5  # the month's five Mondays
    assert min(monday_nines) > 2 * (sum(others) / len(others))


def test_some_analysts_rerun_one_analysis_in_a_burst():
    bursts = Counter()
    for q in by_job("analysts"):
        bursts[(q.caller, q.query.started_at.date(), fingerprint(q.query.sql))] += 1
    assert max(bursts.values()) >= TRAFFIC.burst_queries[0]


def test_the_batch_starts_at_midnight_but_three_hours_late_on_saturdays():
    first = {}
    for q in by_job("nightly batch") + by_job("month-end run"):
        first.setdefault(q.query.started_at.date(), q.query.started_at)
    assert len(first) == 30
    for day, at in first.items():
        late = day.weekday() == SATURDAY
        assert (at.hour, at.minute) == ((3, 0) if late else (0, 0)), day


def test_the_batch_varies_within_twenty_percent_and_runs_each_analysis_once_a_night():
    nights = defaultdict(list)
    for q in by_job("nightly batch"):
        nights[q.query.started_at.date()].append(q)
    counts = [len(night) for night in nights.values()]
    assert len(counts) == 29
    assert min(counts) >= 96 and max(counts) <= 144
    assert len(set(counts)) > 10
    for night in nights.values():
        assert len({fingerprint(q.query.sql) for q in night}) == len(night)


def test_the_month_end_run_is_three_times_a_night_in_three_chains_within_the_usual_hours():
    month_end = by_job("month-end run")
    assert {q.query.started_at.date() for q in month_end} == {(TRAFFIC.start + timedelta(days=29)).date()}
    assert 3 * 96 <= len(month_end) <= 3 * 144 and len(month_end) % 3 == 0
    span = month_end[-1].query.started_at - month_end[0].query.started_at
    assert span < timedelta(seconds=144 * TRAFFIC.batch_interval_seconds)
    step = month_end[1].query.started_at - month_end[0].query.started_at
    assert step == timedelta(seconds=TRAFFIC.batch_interval_seconds / 3)


def test_the_etl_runs_its_statements_every_hour_as_the_same_fingerprints():
    etl = by_job("hourly ETL")
    assert len(etl) == 30 * 24 * TRAFFIC.etl_statements
    assert {q.query.started_at.minute for q in etl} == {5}
    assert len({fingerprint(q.query.sql) for q in etl}) == TRAFFIC.etl_statements


def test_functions_call_as_their_role_and_analysts_as_sso_sessions():
    week = MonthTraffic(days=2)
    queries = week.queries()
    deliveries = week.deliveries(queries)
    assert len(deliveries) >= 2 * len(queries)
    assert [d.deliver_at for d in deliveries] == sorted(d.deliver_at for d in deliveries)
    analyst = next(q for q in queries if not q.is_function)
    identity = week.start_event(analyst)["detail"]["userIdentity"]
    assert identity["arn"].endswith(f"assumed-role/{ANALYST_ROLE}/{analyst.caller}")
    assert identity["sessionContext"]["sessionIssuer"]["userName"] == ANALYST_ROLE
    batch = next(q for q in queries if q.caller == week.batch_function)
    identity = week.start_event(batch)["detail"]["userIdentity"]
    assert identity["sessionContext"]["sessionIssuer"]["userName"] == f"{week.batch_function}-role"
