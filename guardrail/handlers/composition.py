"""The composition root: the one place that builds adapters from settings and wires them to logic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import boto3

from guardrail.adapters.athena_baselines import AthenaBaselines
from guardrail.adapters.athena_counters import AthenaCounters
from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.config import Settings
from guardrail.detectors.athena.ports import QueryLookup
from guardrail.detectors.athena.watch import AthenaWatch
from guardrail.detectors.invocation_scan import HourlyCap, InvocationScan
from guardrail.domain import TargetKind
from guardrail.enforcement.actions import DisableWorkgroup, ThrottleFunction
from guardrail.enforcement.enforcer import Enforcer, utc_now
from guardrail.enforcement.policy import Exemptions


def session_for(settings: Settings) -> boto3.session.Session:
    """One boto3 session per container, in the function's own region."""
    return boto3.session.Session(region_name=settings.region)


def build_enforcer(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Enforcer, LambdaControl]:
    """Build the enforcement path, with every kind of action, (and its Lambda adapter) for the settings."""
    session = session or session_for(settings)
    functions = LambdaControl(boto3_session=session)
    enforcer = Enforcer(
        actions=[
            ThrottleFunction(functions, EventSources(boto3_session=session)),
            DisableWorkgroup(AthenaWorkgroups(boto3_session=session)),
        ],
        ledger=Ledger(settings.ledger_table, boto3_session=session),
        alerts=SnsAlerts(settings.alert_topic_arn, boto3_session=session),
        exemptions=Exemptions(
            own={TargetKind.FUNCTION: settings.own_functions},
            names={TargetKind.FUNCTION: settings.exempt_functions},
        ),
        notify_only=settings.notify_only,
        region=settings.region,
        kill_switch_function=settings.kill_switch_function,
        clock=clock,
        breaker_max_actions_per_hour=settings.config.breaker_max_actions_per_hour,
    )
    return enforcer, functions


def build_audit(settings: Settings, *, session: boto3.session.Session | None = None) -> Ledger:
    """The ledger, for reading the audit trail (the kill switch's `history`)."""
    return Ledger(settings.ledger_table, boto3_session=session or session_for(settings))


def build_watch(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
    queries: QueryLookup | None = None,
) -> AthenaWatch:
    """Build the Athena watch, its adapters and the shared enforcement path.

    `queries` replaces the GetQueryExecution adapter (replays serve their own statistics).
    """
    session = session or session_for(settings)
    config = settings.config.detectors.athena_watch
    enforcer, _ = build_enforcer(settings, session=session, clock=clock)
    return AthenaWatch(
        config=config,
        region=settings.region,
        counters=AthenaCounters(
            settings.ledger_table, ttl_hours=config.counter_ttl_hours, boto3_session=session
        ),
        queries=queries or AthenaQueries(boto3_session=session),
        locations=DataLocations(boto3_session=session),
        enforcer=enforcer,
        baselines=AthenaBaselines(settings.ledger_table, config.baselines, boto3_session=session),
    )


def build_scan(
    settings: Settings, *, session: boto3.session.Session | None = None
) -> tuple[InvocationScan, Enforcer]:
    """Build the invocation scan and the enforcement path it feeds."""
    session = session or session_for(settings)
    enforcer, functions = build_enforcer(settings, session=session)
    config = settings.config.detectors.invocation_scan
    scan = InvocationScan(
        metrics=CloudWatchMetrics(boto3_session=session),
        functions=functions,
        config=config,
        cap=HourlyCap(Ledger(settings.ledger_table, boto3_session=session), config.max_drill_downs_per_hour),
    )
    return scan, enforcer
