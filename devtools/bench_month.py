"""A month of legitimate traffic through the Athena watch, default configuration: throttles and alerts.

The stack is synthesized from cdk.json and deployed into moto in-process, as for the incident replay
(`devtools.bench_incident`); the watch is the one the handler builds (`build_watch` with the deployed
function's own environment: learned baselines on, the fixed limits as ceilings), fed every event of
`devtools.month_traffic` in delivery order, on the events' clock, against the deployed ledger table.
Called in-process rather than through the event bridge and the Lambda runtime: a month is ~15,000
events, and the bridge's per-event cost would make it hours. Three aids keep moto's DynamoDB closer to
the table it stands for: key-range Queries and responses written as the JSON they already are
(`devtools.moto_patches`), and items expired by their TTL once an hour, as DynamoDB does
(`devtools.bench_table`).

A throttle of a legitimate caller is recorded and then restored through the Enforcer, as the operator
would, so that the rest of the month is measured too.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
from moto import mock_aws

from devtools.bench_custodian import PER_MINUTE, VARIANTS
from devtools.bench_table import expire
from devtools.deploy import create_bucket
from devtools.incident import create_function, store_tables
from devtools.lambda_runtime import discarded
from devtools.month_ceilings import ceilings_at_scale
from devtools.month_traffic import MonthQuery, MonthTraffic
from devtools.moto_patches import patched
from devtools.moto_server import ACCOUNT
from devtools.stand_in import Deployment, deploy_guardrail
from guardrail.adapters.athena_lookups import AthenaQueries
from guardrail.alerts.render import DIGEST_EVENT_TYPE
from guardrail.config import Settings
from guardrail.domain import Target
from guardrail.handlers.composition import build_enforcer, build_watch

#: The tables the month's queries read besides the batch's (all in Athena's region).
LOCAL_TABLES = ("events_raw", "events_hourly_0", "events_hourly_1", "invoices")


class Clock:
    """The events' clock: the time of the delivery being handled."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The current delivery's time."""
        return self.now


class MonthStatistics:
    """`GetQueryExecution` answered from the month's queries, as Athena would (moto reports 0 bytes)."""

    def __init__(self, traffic: MonthTraffic, queries: Iterable[MonthQuery]) -> None:
        self._base = traffic.base
        self._queries = {q.query.query_id: q.query for q in queries}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        """The query's execution; every id of the month is known."""
        return {"QueryExecution": self._base.query_execution(self._queries[QueryExecutionId])}


def run(traffic: MonthTraffic | None = None) -> dict[str, Any]:
    """Deploy, feed the month, and count throttles and alerts."""
    traffic = traffic or MonthTraffic()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    region = traffic.base.athena_region
    with (
        patched(),
        mock_aws(),
        tempfile.TemporaryDirectory() as scratch,
    ):
        session = boto3.session.Session(region_name=region)
        _, deployment = deploy_guardrail(session, Path(scratch), {}, discarded())
        build_month_world(session, traffic)
        month = feed(traffic, deployment)
    return {**month, "at_incident_scale": ceilings_at_scale()}


def build_month_world(session: boto3.session.Session, traffic: MonthTraffic) -> None:
    """The two functions (each with the role its sessions are issued by) and the tables their queries read."""
    for function in (traffic.batch_function, traffic.etl_function):
        create_function(session, function, role=f"{function}-role", handler="job.handler")
    base = traffic.base
    store_tables(session, base)
    bucket = f"{base.local_bucket}-month"
    create_bucket(session, bucket, base.athena_region)
    for table in LOCAL_TABLES:
        session.client("glue").create_table(
            DatabaseName=base.database,
            TableInput={"Name": table, "StorageDescriptor": {"Location": f"s3://{bucket}/{table}/"}},
        )


def watch_settings(deployment: Deployment) -> Settings:
    """The Athena watch's settings from the deployed function's own environment."""
    functions = deployment.session.client("lambda").list_functions()["Functions"]
    (watch,) = [f for f in functions if f["FunctionName"] == f"{_prefix(deployment)}-athena-watch"]
    env = {**watch["Environment"]["Variables"], "AWS_REGION": deployment.session.region_name or ""}
    return Settings.from_env(env)


def _prefix(deployment: Deployment) -> str:
    return deployment.outputs["KillSwitchFunctionName"].removesuffix("-kill-switch")


def feed(traffic: MonthTraffic, deployment: Deployment) -> dict[str, Any]:
    """Every delivery through the watch, in order; restore what it throttles; drain the alerts daily."""
    session, queries = deployment.session, traffic.queries()
    deliveries = traffic.deliveries(queries)
    callers = {q.query.query_id: q.caller for q in queries}
    settings = watch_settings(deployment)
    clock = Clock(traffic.start)
    stats = MonthStatistics(traffic, queries)
    watch = build_watch(
        settings, session=session, clock=clock, queries=AthenaQueries(boto3_client=cast(Any, stats))
    )
    enforcer, _ = build_enforcer(settings, session=session, clock=clock)
    tally = Tally(deliveries=len(deliveries))
    next_hour, next_day = traffic.start + timedelta(hours=1), traffic.start + timedelta(days=1)
    began = time.perf_counter()
    for delivery in deliveries:
        clock.now = delivery.deliver_at
        if delivery.deliver_at >= next_hour:  # DynamoDB's TTL process, hourly
            expire(ACCOUNT, session.region_name or "", settings.ledger_table, "expires_at", clock.now)
            next_hour += timedelta(hours=1)
        if delivery.deliver_at >= next_day:
            tally.alerts += deployment.alerts()
            done = f"{next_day:%m-%d}: {tally.results['counted']:,} events, {len(tally.throttles)} throttles"
            next_day += timedelta(days=1)
            print(
                f"month: before {done}, {time.perf_counter() - began:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        report = watch.handle(delivery.event, account=ACCOUNT)
        tally.results[report.status] += 1
        for action in report.actions:
            tally.results[f"action:{action['result']}"] += 1
            if action["result"] == "throttled":
                function = callers[delivery.query.query_id]
                tally.throttles.append({"caller": function, "at": _iso(clock.now), "rules": action["rules"]})
                enforcer.restore(Target.function(function), reason="bench: a legitimate caller, restored")
    tally.seconds = time.perf_counter() - began
    tally.alerts += deployment.alerts()
    return summary(traffic, queries, tally)


@dataclass
class Tally:
    """What the watch did with the month: report statuses and action results, throttles, alerts."""

    deliveries: int
    results: Counter[str] = field(default_factory=Counter)
    throttles: list[dict[str, str]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def summary(traffic: MonthTraffic, queries: list[MonthQuery], tally: Tally) -> dict[str, Any]:
    """What the month did and what the watch made of it, as the bench's JSON.

    Digests (`event_type` `digest`) are counted apart: `alerts` and its breakdowns are the others.
    """
    everything = [json.loads(alert["Message"]) for alert in tally.alerts]
    documents = [d for d in everything if d["event_type"] != DIGEST_EVENT_TYPE]
    digests = [d for d in everything if d["event_type"] == DIGEST_EVENT_TYPE]
    digested: Counter[str] = Counter()
    for digest in digests:
        for entry in digest["conditions"]:
            digested[f"{entry['subject']}: {entry['condition']}"] += entry["count"]
    throttles, seconds, deliveries = tally.throttles, tally.seconds, tally.deliveries
    kinds = Counter(d["event_type"] for d in documents)
    rules = Counter(str(d.get("evidence", {}).get("rules", "")) for d in documents)
    by_subject = Counter(str(d.get("subject") or d.get("function") or d.get("workgroup")) for d in documents)
    signatures = Counter(
        s["signature"] for d in documents for s in d.get("evidence", {}).get("loop_signatures", [])
    )
    return {
        "start": _iso(traffic.start),
        "days": traffic.days,
        "queries": len(queries),
        "queries_by_job": dict(Counter(q.job for q in queries)),
        "queries_by_caller": dict(Counter(q.caller for q in queries)),
        "events_delivered": deliveries,
        "seconds": round(seconds, 1),
        "ms_per_event": round(seconds * 1000 / max(deliveries, 1), 1),
        "watch_results": dict(sorted(tally.results.items())),
        "throttles": throttles,
        "throttles_by_caller": dict(Counter(t["caller"] for t in throttles)),
        "alerts": len(documents),
        "alerts_by_kind": dict(kinds),
        "alerts_by_rules": dict(rules.most_common()),
        "alerts_by_signature": dict(signatures.most_common()),
        "alerts_by_subject": dict(by_subject.most_common()),
        "digests": len(digests),
        "digested_by_condition": dict(digested.most_common()),
        "custodian": custodian_on_month(queries),
    }


def custodian_on_month(queries: list[MonthQuery]) -> dict[str, Any]:
    """What `devtools.bench_custodian`'s policy would do on the month (computed from it, not run by c7n).

    The policy throttles a function whose `Invocations` over its window exceed the default rate (60 in 5
    minutes); each query is one invocation of the function that issued it, as in the Custodian bench.
    The peak is over every window of the policy's length, so no schedule's alignment would see more.
    """
    starts: dict[str, list[datetime]] = {}
    for query in queries:
        if query.is_function:
            starts.setdefault(query.caller, []).append(query.query.started_at)
    variants = []
    for schedule, window in VARIANTS:
        peaks = {caller: _peak(sorted(times), timedelta(minutes=window)) for caller, times in starts.items()}
        limit = PER_MINUTE * window
        throttled = sorted(caller for caller, peak in peaks.items() if peak > limit)
        variants.append(
            {
                "schedule_minutes": schedule,
                "window_minutes": window,
                "threshold": limit,
                "peak": peaks,
                "would_throttle": throttled,
            }
        )
    return {"variants": variants, "alerts": 0}


def _peak(times: list[datetime], window: timedelta) -> int:
    """The most `times` (sorted) within any span of `window`."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


if __name__ == "__main__":  # a shorter month while measuring: python -m devtools.bench_month DAYS
    days = int(sys.argv[1]) if len(sys.argv) > 1 else MonthTraffic().days
    print(json.dumps(run(MonthTraffic(days=days)), indent=2))


def markdown(month: dict[str, Any]) -> list[str]:
    """The month as the bench page's section."""
    jobs = ", ".join(f"{job} {n:,}" for job, n in month["queries_by_job"].items())
    throttles = month["throttles_by_caller"]
    lines = [
        "",
        "## A month of legitimate traffic, default configuration",
        "",
        f"{month['days']} days from {month['start'][:10]}: {month['queries']:,} queries ({jobs}), "
        f"{month['events_delivered']:,} events, fed through the deployed Athena watch in "
        f"{month['seconds'] / 60:.1f} min ({month['ms_per_event']} ms an event): learned baselines on, the "
        "fixed limits as ceilings (cdk.json). The traffic: `devtools/month_traffic.py`; nothing in it loops.",
        "",
        f"**Throttles of legitimate callers: {sum(throttles.values())}**"
        + ("" if not throttles else " (" + ", ".join(f"{c}: {n}" for c, n in throttles.items()) + ")"),
        "",
        "| alerts | count |",
        "| --- | ---: |",
    ]
    lines += [f"| kind `{kind}` | {n} |" for kind, n in month["alerts_by_kind"].items()]
    lines += [f"| rules `{rules}` | {n} |" for rules, n in month["alerts_by_rules"].items()]
    lines += [f"| signature `{name}` | {n} |" for name, n in month["alerts_by_signature"].items()]
    lines += [f"| subject `{subject}` | {n} |" for subject, n in month["alerts_by_subject"].items()]
    lines += [
        f"| **alerts that are not digests** | **{month['alerts']}** |",
        f"| digests (`event_type` `digest`, one a day at most) | {month['digests']} |",
    ]
    if month["throttles"]:
        lines.append("")
    for throttle in month["throttles"]:
        lines.append(
            f"- throttled `{throttle['caller']}` at {throttle['at']} ({throttle['rules']}); restored"
        )
    lines += [
        "",
        "A recurring condition that changes nothing is alerted once, then counted in the daily digest "
        f'(docs/athena-watch.md, "Told once"): {month["digests"]} digests in {month["days"]} days, each '
        "sent by the first delivery after its day ended (the month's last day's would go with the next "
        "day's first). What the digests counted:",
        "",
        "| condition (subject: what recurred) | recurrences in the digests |",
        "| --- | ---: |",
    ]
    lines += [f"| `{condition}` | {n:,} |" for condition, n in month["digested_by_condition"].items()]
    lines += custodian_markdown(month["custodian"])
    scale = month["at_incident_scale"]
    lines += [
        "",
        f"The month's batch runs {MonthTraffic().batch_queries} analyses a night (±20 %), not the incident's "
        f"{scale['batch_queries']}, to keep `make bench` in minutes. The same month at the incident's scale "
        f"(computed from the same generator, not run) against the default fixed ceilings "
        f"({scale['max_queries_per_day']:,} queries, ${scale['max_cost_per_day_usd']:g} in a sliding 24 h; "
        f"${scale['usd_per_query']} a query): {_passes('count', scale['passes_daily_count'])}; "
        f"{_passes('cost', scale['passes_daily_cost'])}. The month-end run has "
        f"{scale['month_end_queries']:,} queries; "
        "a late start followed by a night on time puts two nights in one 24 h. The ceilings are hard by "
        "design (fixed limits stay the ceilings over the baselines): such a batch needs its own `callers` "
        "entry in cdk.json.",
    ]
    return lines


def _passes(ceiling: str, moments: list[str]) -> str:
    """When the month passes one ceiling, or that it never does."""
    return f"the {ceiling} passes it at {_list(moments)}" if moments else f"the {ceiling} never passes it"


def custodian_markdown(custodian: dict[str, Any]) -> list[str]:
    """Cloud Custodian's policy on the same month, beside the guardrail's alerts."""
    lines = [
        "",
        "Beside it, Cloud Custodian's policy of `devtools/bench_custodian.py` (Lambda `Invocations` over "
        "60 in 5 minutes, `set-concurrency: 0`) on the same month, each query one invocation of its "
        "function: computed from the month's queries over every window of the policy's length, not run by "
        "c7n (a month of ticks through c7n and moto would take hours). The policy has no `notify` action, "
        "so it sends no alerts; it would throttle:",
        "",
        "| schedule | window | threshold | busiest window | would throttle |",
        "| ---: | ---: | ---: | --- | --- |",
    ]
    for variant in custodian["variants"]:
        peaks = ", ".join(f"{caller} {n}" for caller, n in variant["peak"].items())
        throttled = ", ".join(variant["would_throttle"]) or "nothing"
        lines.append(
            f"| {variant['schedule_minutes']} min | {variant['window_minutes']} min | "
            f"{variant['threshold']} | {peaks} | {throttled} |"
        )
    lines += [
        "",
        "Quiet on this month, as the guardrail is; on the incident's night the same policy stops the loop "
        "late or never (above), and no invocation threshold that lets the batch run stops a loop at the "
        "batch's own pace.",
    ]
    return lines


def _list(moments: list[str]) -> str:
    return ", ".join(moments) if moments else "never"
