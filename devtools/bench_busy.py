"""A busy account on the default configuration: 1 million Athena queries a month in one workgroup.

Ten Lambda functions share the workgroup, a tenth of the traffic each (about 3,300 queries a day per
caller, 33,000 in the workgroup), each re-running a few dozen statements of its own at random, in a
Poisson stream twice as dense in office hours (08:00-20:00 UTC) as at night. Nothing in it loops.

What was run: `HISTORY_DAYS` days of that traffic are learned in one batch (`devtools.history`: the
hour buckets and baselines the watch would have left, computed with its own booking and folding
code), so that every sliding 24 h count is a full day's and the learned signatures speak; then the
stretch from `DRIVEN_FROM` to `DRIVEN_TO` UTC of the next day (the night's last ten minutes and
office hours' first twenty: the day's jump in pace, which the acceleration signature compares with
the night's) is fed event by event through the watch the Athena handler builds from the deployed
function's environment, against the deployed table, as `devtools.bench_month` does. The learned hours
carry the paces the watch notes (`history.noted_paces`), so the acceleration signature compares the
morning with the day before's office hours, as it would on any day after the first. (On its first
morning, with only the night's pace noted, the same traffic was throttled by `acceleration` five
times in 20 minutes.) A throttle is counted, then restored as an operator would.

`FRESH` is the same traffic on a brand-new deployment: nothing learned, the watch sees the callers
from `DRIVEN_FROM` on, 10 minutes before the office hours' jump, and is driven until 09:20 UTC, past
the hour from which the morning's own starts are enough of a pace for `acceleration` to compare with.
Its seed is 11, a morning whose random clusters the rule took for loops while it compared with a pace
read from the night's last few starts (5 throttles of one caller, 08:08-08:10; the default seed's
morning happened to have none); `pacing.FEWEST_EARLIER_STARTS` is why it has none now.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
from moto import mock_aws

from devtools.bench_month import Clock, watch_settings
from devtools.history import learned_items, write_items
from devtools.incident import QueryStatistics, create_function, store_tables
from devtools.lambda_runtime import discarded
from devtools.moto_patches import patched
from devtools.moto_server import ACCOUNT
from devtools.replay import IncidentReplay, ReplayQuery
from devtools.stand_in import deploy_guardrail
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.detectors.athena.cost import GB
from guardrail.domain import Target
from guardrail.handlers.composition import build_enforcer, build_watch

QUERIES_PER_MONTH = 1_000_000
CALLERS = 10
STATEMENTS_PER_CALLER = 30
OFFICE_HOURS_UTC = (8, 20)
HISTORY_DAYS = 3
DRIVEN_FROM, DRIVEN_TO = timedelta(hours=7, minutes=50), timedelta(hours=8, minutes=20)


@dataclass(frozen=True)
class CallerQuery(ReplayQuery):
    """A query and the function that ran it."""

    caller: str = ""


@dataclass(frozen=True)
class BusyAccount(IncidentReplay):
    """The busy account's traffic, as the replay's events (one workgroup, every caller a function).

    `start` is when the driven stretch starts, `driven_to` (from the day's midnight) when it ends;
    the `learned_days` days before it (and the driven day's night) are learned; 0: nothing is, the
    guardrail is deployed at `start`.
    """

    start: datetime = datetime(2026, 10, 15, tzinfo=UTC) + DRIVEN_FROM
    athena_region: str = "us-east-1"
    data_region: str = "us-east-1"
    workgroup: str = "analytics"
    seed: int = 17
    learned_days: int = HISTORY_DAYS
    driven_to: timedelta = DRIVEN_TO

    @property
    def callers(self) -> list[str]:
        """The ten functions."""
        return [f"reporting-job-{n}" for n in range(CALLERS)]

    def queries(self) -> list[ReplayQuery]:
        """Every query from the learned days' start to the driven stretch's end, in start order."""
        midnight = self.start - DRIVEN_FROM
        first = midnight - timedelta(days=self.learned_days) if self.learned_days else self.start
        last = midnight + self.driven_to
        out = []
        for n, caller in enumerate(self.callers):
            out += self._caller_queries(caller, random.Random(self.seed * 1000 + n), first, last)  # noqa: S311
        return sorted(out, key=lambda q: q.started_at)

    def _caller_queries(
        self, caller: str, rng: random.Random, first: datetime, last: datetime
    ) -> list[ReplayQuery]:
        per_day = QUERIES_PER_MONTH / 30 / CALLERS
        office = OFFICE_HOURS_UTC[1] - OFFICE_HOURS_UTC[0]
        night_per_second = per_day / (2 * office + (24 - office)) / 3600
        out: list[ReplayQuery] = []
        at = first
        while True:
            busy = OFFICE_HOURS_UTC[0] <= at.hour < OFFICE_HOURS_UTC[1]
            at += timedelta(seconds=rng.expovariate(night_per_second * (2 if busy else 1)))
            if at >= last:
                return out
            statement = rng.randrange(STATEMENTS_PER_CALLER)
            out.append(
                CallerQuery(
                    query_id=f"{caller}-{len(out):07d}",
                    started_at=at,
                    finished_at=at + timedelta(seconds=self.query_seconds),
                    scanned_bytes=int(rng.uniform(0.1, 1.0) * GB),
                    sql=self._statement(caller, statement),
                    looping=False,
                    caller=caller,
                )
            )

    def _statement(self, caller: str, index: int) -> str:
        table = f"{self.database}.{self.local_table}"
        return f"SELECT region, sum(measure_{index:02d}) FROM {table} WHERE job = '{caller}' GROUP BY region"  # noqa: S608 - sample SQL, never run

    def start_event(self, query: ReplayQuery) -> dict[str, Any]:
        """CloudTrail's StartQueryExecution, by the function that ran the query."""
        caller = cast(CallerQuery, query).caller
        return IncidentReplay.start_event(replace(self, function=caller), query)


#: The brand-new deployment: nothing learned, from 07:50 to 09:20 UTC.
FRESH = BusyAccount(learned_days=0, driven_to=timedelta(hours=9, minutes=20), seed=11)


def run(account: BusyAccount | None = None) -> dict[str, Any]:
    """Learn the days before, feed the driven stretch, count throttles and alerts."""
    busy = account or BusyAccount()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with (
        patched(),
        mock_aws(),
        tempfile.TemporaryDirectory() as scratch,
    ):
        session = boto3.session.Session(region_name=busy.athena_region)
        _, deployment = deploy_guardrail(session, Path(scratch), {}, discarded())
        for caller in busy.callers:
            create_function(session, caller, role=f"{caller}-role", handler="job.handler")
        store_tables(session, busy)
        settings = watch_settings(deployment)
        items = learned_items(busy, settings.config.detectors.athena_watch)
        write_items(session, settings.ledger_table, items)
        clock = Clock(busy.start)
        with QueryStatistics(busy) as stats:
            watch = build_watch(
                settings, session=session, clock=clock, queries=AthenaQueries(boto3_client=cast(Any, stats))
            )
            enforcer, _ = build_enforcer(settings, session=session, clock=clock)
            deliveries = busy.deliveries(history=False)
            results: Counter[str] = Counter()
            throttles: list[dict[str, str]] = []
            began = time.perf_counter()
            for delivery in deliveries:
                clock.now = delivery.deliver_at
                report = watch.handle(delivery.event, account=ACCOUNT)
                results[report.status] += 1
                for action in report.actions:
                    results[f"action:{action['result']}"] += 1
                    if action["result"] == "throttled":
                        caller = cast(CallerQuery, delivery.query).caller
                        throttles.append(
                            {"caller": caller, "at": f"{clock.now:%H:%M:%S}", "rules": action["rules"]}
                        )
                        enforcer.restore(
                            Target.function(caller), reason="bench: a legitimate caller, restored"
                        )
            seconds = time.perf_counter() - began
        alerts = deployment.alerts()
    every = busy.queries()
    driven = [q for q in every if q.started_at >= busy.start]
    day = [q for q in every if busy.start - timedelta(days=1) <= q.started_at < busy.start]
    return {
        "queries_per_month": QUERIES_PER_MONTH,
        "callers": CALLERS,
        "learned_days": busy.learned_days,
        "seed": busy.seed,
        "learned_items": len(items),
        "queries_in_the_24_h_before": len(day),
        "busiest_caller_24_h_before": max(
            Counter(cast(CallerQuery, q).caller for q in day).values(), default=0
        ),
        "driven_from": f"{busy.start:%Y-%m-%d %H:%M}",
        "driven_to": f"{busy.start - DRIVEN_FROM + busy.driven_to:%H:%M}",
        "driven_queries": len(driven),
        "events_delivered": len(deliveries),
        "busiest_5_min_workgroup": _busiest(driven, timedelta(minutes=5)),
        "seconds": round(seconds, 1),
        "watch_results": dict(sorted(results.items())),
        "throttles": throttles,
        "alerts": len(alerts),
    }


def _busiest(queries: list[ReplayQuery], span: timedelta) -> int:
    starts = sorted(q.started_at for q in queries)
    most, first = 0, 0
    for index, at in enumerate(starts):
        while starts[first] <= at - span:
            first += 1
        most = max(most, index - first + 1)
    return most


def markdown(busy: dict[str, Any]) -> list[str]:
    """The busy account's row of the bench page."""
    per_day = math.floor(busy["queries_per_month"] / 30)
    return [
        "",
        "## A busy account on the default configuration",
        "",
        f"{busy['queries_per_month']:,} queries a month ({per_day:,} a day) in one workgroup from "
        f"{busy['callers']} Lambda functions (`devtools/bench_busy.py`): {busy['learned_days']} days "
        f"learned in one batch ({busy['queries_in_the_24_h_before']:,} queries in the 24 h before the "
        f"driven stretch, {busy['busiest_caller_24_h_before']:,} by the busiest caller), then "
        f"{busy['driven_from']}-{busy['driven_to']} UTC (the night's end and office hours' start, at twice "
        f"the night's pace) fed event by event through the watch: {busy['driven_queries']:,} queries, "
        f"{busy['events_delivered']:,} events, at most {busy['busiest_5_min_workgroup']} in the workgroup "
        "in 5 minutes.",
        "",
        f"**Throttles of legitimate callers: {len(busy['throttles'])}**; alerts: {busy['alerts']}.",
    ]


def fresh_markdown(busy: dict[str, Any]) -> list[str]:
    """The busy account's row on a brand-new deployment (nothing learned)."""
    return [
        "",
        "The same traffic on a brand-new deployment (`bench_busy.FRESH`: nothing learned, the watch sees "
        f"the callers from {busy['driven_from']} UTC, 10 minutes before office hours, to "
        f"{busy['driven_to']}; seed {busy['seed']}, a morning the rule throttled 5 times before it asked for "
        "36 earlier starts): "
        f"{busy['driven_queries']:,} queries, {busy['events_delivered']:,} events. "
        f"**Throttles of legitimate callers: {len(busy['throttles'])}**; alerts: {busy['alerts']}.",
    ]
