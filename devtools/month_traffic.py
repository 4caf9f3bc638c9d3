"""A month of legitimate Athena traffic, as the EventBridge events AWS would deliver: nothing in it loops.

- a nightly batch (a Lambda function, one query every 40 s, each its own analysis), ±20 % volume from
  night to night; once a week (Saturdays) it starts three hours late;
- an hourly ETL (a Lambda function): the same statements every hour, on that hour's partition;
- analysts (people, through an SSO role) on weekdays in office hours, each with a few analyses of their
  own re-run with other values, now and then a burst of re-runs, and on Monday mornings every analysis
  at once (the weekly reports);
- a month-end run: on the month's last night, the batch runs three times its analyses, in three
  parallel chains, so that it still ends in its usual hours.

Each query yields the same two events as the incident replay (`devtools.replay`): CloudTrail's
`StartQueryExecution` 20-75 s late and the final state change 0.5-5 s late, 5 % delivered twice. An
analyst's CloudTrail event names the person's SSO session, not a function. Pure and seeded.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.replay import Delivery, IncidentReplay, ReplayQuery
from guardrail.detectors.athena.cost import GB

_NAMESPACE = uuid.UUID("0b6f3f7e-6a59-4f0c-8d0e-4f1a2b3c4d5e")
SATURDAY, MONDAY = 5, 0
#: The SSO permission set's role the analysts' sessions run in.
ANALYST_ROLE = "AWSReservedSSO_DataAnalyst_0123456789abcdef"


@dataclass(frozen=True)
class MonthQuery:
    """One query of the month, by whom (`caller`: a function or an analyst) and as what (`job`)."""

    caller: str
    job: str
    query: ReplayQuery

    @property
    def is_function(self) -> bool:
        """Whether a Lambda function issued it (an analyst is a person)."""
        return "@" not in self.caller


@dataclass(frozen=True)
class MonthTraffic:
    """The month's shape; every default is the bench's."""

    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    days: int = 30
    seed: int = 11
    batch_function: str = "nightly-batch"
    batch_queries: int = 120
    batch_volume_jitter: float = 0.2
    batch_interval_seconds: float = 40.0
    late_start_weekday: int = SATURDAY
    late_start_hours: float = 3.0
    month_end_factor: int = 3
    etl_function: str = "hourly-etl"
    etl_statements: int = 2
    analysts: tuple[str, ...] = ("ana@example.com", "ben@example.com", "chloe@example.com", "dev@example.com")
    analyst_hours_utc: tuple[int, int] = (8, 18)
    analyst_queries_per_hour: float = 2.0
    analyst_analyses: int = 8
    #: The chance, per analyst and weekday, of one burst: `burst_queries` re-runs of one analysis in 10 min.
    burst_chance: float = 0.3
    burst_queries: tuple[int, int] = (6, 12)
    #: The replay's shape for everything else (regions, tables, lags, duplicates, bytes, query time).
    base: IncidentReplay = field(default_factory=IncidentReplay)

    def queries(self) -> list[MonthQuery]:
        """Every query of the month, in start order."""
        rng = random.Random(self.seed)  # noqa: S311 - seeded traffic, not security
        out: list[MonthQuery] = []
        for day in range(self.days):
            date = self.start + timedelta(days=day)
            out += self.batch_night(date, rng)
            out += self.etl_day(date)
            if date.weekday() < SATURDAY:
                for analyst in self.analysts:
                    out += self.analyst_day(analyst, date, rng)
        return sorted(out, key=lambda q: q.query.started_at)

    def month_end(self, date: datetime) -> bool:
        """Whether `date` is the month's last day (its night is the month-end run)."""
        return (date + timedelta(days=1)).month != date.month

    def batch_start(self, date: datetime) -> datetime:
        """When the batch starts on `date`: midnight, or `late_start_hours` later on the weekly late day."""
        late = date.weekday() == self.late_start_weekday
        return date + timedelta(hours=self.late_start_hours if late else 0)

    def batch_night(self, date: datetime, rng: random.Random) -> list[MonthQuery]:
        """The batch's night: each analysis once, one query every interval per chain."""
        jitter = rng.uniform(1 - self.batch_volume_jitter, 1 + self.batch_volume_jitter)
        count, chains, job = round(self.batch_queries * jitter), 1, "nightly batch"
        if self.month_end(date):
            count, chains, job = count * self.month_end_factor, self.month_end_factor, "month-end run"
        step = timedelta(seconds=self.batch_interval_seconds / chains)
        start = self.batch_start(date)
        return [
            self._query(self.batch_function, job, start + index * step, self.batch_sql(index))
            for index in range(count)
        ]

    def batch_sql(self, index: int) -> str:
        """Analysis number `index`, as in the incident's batch: its own measure, a cross-region join."""
        base = self.base
        return (
            f"SELECT c.region, sum(o.measure_{index:03d}) FROM {base.database}.{base.remote_table} o "  # noqa: S608 - sample SQL, never run
            f"JOIN {base.database}.{base.local_table} c ON o.customer_id = c.id WHERE o.shard = {index % 16} "
            "GROUP BY c.region"
        )

    def etl_day(self, date: datetime) -> list[MonthQuery]:
        """The ETL's 24 runs: at five past each hour, its statements one after the other."""
        out = []
        for hour in range(24):
            at = date + timedelta(hours=hour, minutes=5)
            for statement in range(self.etl_statements):
                sql = (
                    f"INSERT INTO {self.base.database}.events_hourly_{statement} SELECT * FROM "  # noqa: S608 - sample SQL, never run
                    f"{self.base.database}.events_raw WHERE dt = '{at:%Y-%m-%d}' AND hour = {hour}"
                )
                out.append(
                    self._query(self.etl_function, "hourly ETL", at + timedelta(seconds=30 * statement), sql)
                )
        return out

    def analyst_day(self, analyst: str, date: datetime, rng: random.Random) -> list[MonthQuery]:
        """One analyst's weekday: queries at random through office hours, a burst now and then.

        On Mondays from 09:00 the analyst also runs each of their analyses once (the weekly reports).
        """
        first, last = (date + timedelta(hours=h) for h in self.analyst_hours_utc)
        out, at = [], first
        while (at := at + timedelta(hours=rng.expovariate(self.analyst_queries_per_hour))) < last:
            out.append(self._analyst_query(analyst, at, rng.randrange(self.analyst_analyses), rng))
        if date.weekday() == MONDAY:
            step = timedelta(hours=1) / self.analyst_analyses
            for analysis in range(self.analyst_analyses):
                at = date + timedelta(hours=9) + step * analysis + timedelta(seconds=rng.uniform(0, 60))
                out.append(self._analyst_query(analyst, at, analysis, rng))
        if rng.random() < self.burst_chance:
            at = first + timedelta(seconds=rng.uniform(0, (last - first).total_seconds() - 600))
            analysis, runs = rng.randrange(self.analyst_analyses), rng.randint(*self.burst_queries)
            for _ in range(runs):
                at += timedelta(seconds=600 / runs)
                out.append(self._analyst_query(analyst, at, analysis, rng))
        return out

    def _analyst_query(self, analyst: str, at: datetime, analysis: int, rng: random.Random) -> MonthQuery:
        person = analyst.split("@", maxsplit=1)[0]
        sql = (
            f"SELECT region, count(*), sum(amount_{analysis}) FROM {self.base.database}.invoices "  # noqa: S608 - sample SQL, never run
            f"WHERE owner = '{person}' AND issued >= date '2026-{rng.randint(1, 12):02d}-01' GROUP BY region"
        )
        return self._query(analyst, "analysts", at, sql, rng=rng)

    def _query(
        self, caller: str, job: str, at: datetime, sql: str, *, rng: random.Random | None = None
    ) -> MonthQuery:
        query_id = str(uuid.uuid5(_NAMESPACE, f"{self.seed}:{caller}:{at.isoformat()}:{sql}"))
        scanned = self.base.scanned_bytes if job in ("nightly batch", "month-end run") else int(0.2 * GB)
        if rng is not None:
            scanned = int(scanned * rng.uniform(0.2, 2.0))
        seconds = self.base.query_seconds
        query = ReplayQuery(query_id, at, at + timedelta(seconds=seconds), scanned, sql, looping=False)
        return MonthQuery(caller, job, query)

    def deliveries(self, queries: list[MonthQuery] | None = None) -> list[Delivery]:
        """Both events of every query, duplicates included, in the order EventBridge delivers them."""
        rng = random.Random(self.seed)  # noqa: S311 - seeded jitter, not security
        out = []
        for month_query in self.queries() if queries is None else queries:
            query = month_query.query
            for event, at, lag in (
                (self.start_event(month_query), query.started_at, self.base.trail_lag_seconds),
                (self.base.finish_event(query), query.finished_at, self.base.state_lag_seconds),
            ):
                copies = 2 if rng.random() < self.base.duplicate_share else 1
                for _ in range(copies):
                    out.append(Delivery(at + timedelta(seconds=rng.uniform(*lag)), query, event))
        return sorted(out, key=lambda d: d.deliver_at)

    def start_event(self, month_query: MonthQuery) -> dict[str, Any]:
        """CloudTrail's `StartQueryExecution`: a function's session, or the analyst's SSO session."""
        if month_query.is_function:
            return replace(self.base, function=month_query.caller).start_event(month_query.query)
        event = self.base.start_event(month_query.query)
        account, person = self.base.account, month_query.caller
        identity = event["detail"]["userIdentity"]
        identity["principalId"] = f"AROAEXAMPLESSOROLE:{person}"
        identity["arn"] = f"arn:aws:sts::{account}:assumed-role/{ANALYST_ROLE}/{person}"
        issuer = identity["sessionContext"]["sessionIssuer"]
        issuer["arn"] = f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{ANALYST_ROLE}"
        issuer["userName"] = ANALYST_ROLE
        event["detail"]["userAgent"] = "aws-cli/2.17.0 md/command#athena.start-query-execution"
        return event
