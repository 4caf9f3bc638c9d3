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
from guardrail.adapters.places import PerPlace, Sessions
from guardrail.adapters.scan_watchlist import ScanWatchlist
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.config import Settings
from guardrail.detectors.athena.ports import QueryLookup
from guardrail.detectors.athena.watch import AthenaWatch
from guardrail.detectors.invocation_scan import DrillDownCap, InvocationScan
from guardrail.domain import TargetKind
from guardrail.enforcement.actions import DisableWorkgroup, ThrottleFunction
from guardrail.enforcement.enforcer import Enforcer, utc_now
from guardrail.enforcement.known import KnownConditions
from guardrail.enforcement.noise import NoiseBound
from guardrail.enforcement.policy import Exemptions
from guardrail.kill_switch.pausing import AccountSwitch


def session_for(settings: Settings) -> boto3.session.Session:
    """One boto3 session per container, in the function's own region."""
    return boto3.session.Session(region_name=settings.region)


def sessions_for(settings: Settings, session: boto3.session.Session | None = None) -> Sessions:
    """Sessions for every watched account and region: the home's own, members' through their role."""
    return Sessions(settings.home, settings.config.member_role_name, base=session or session_for(settings))


def build_enforcer(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Enforcer, PerPlace[LambdaControl]]:
    """Build the enforcement path, with every kind of action, (and its Lambda adapters) for the settings."""
    enforcer, functions, _ = _enforcement(settings, session=session or session_for(settings), clock=clock)
    return enforcer, functions


def _enforcement(
    settings: Settings, *, session: boto3.session.Session, clock: Callable[[], datetime]
) -> tuple[Enforcer, PerPlace[LambdaControl], ThrottleFunction]:
    """The enforcement path, its Lambda adapters, and its action on functions (its `read` verifies claims)."""
    places = sessions_for(settings, session)
    functions = PerPlace(places, lambda at: LambdaControl(boto3_session=at))
    throttle = ThrottleFunction(functions, PerPlace(places, lambda at: EventSources(boto3_session=at)))
    ledger = Ledger(settings.ledger_table, home=settings.home, boto3_session=session)
    enforcer = Enforcer(
        actions=[throttle, DisableWorkgroup(PerPlace(places, lambda at: AthenaWorkgroups(boto3_session=at)))],
        ledger=ledger,
        alerts=SnsAlerts(settings.alert_topic_arn, boto3_session=session),
        exemptions=Exemptions(
            own={TargetKind.FUNCTION: settings.own_functions},
            names={TargetKind.FUNCTION: settings.exempt_functions},
        ),
        notify_only=settings.notify_only,
        home=settings.home,
        members=settings.config.organization.member,
        kill_switch_function=settings.kill_switch_function,
        clock=clock,
        breaker_max_actions_per_hour=settings.config.breaker_max_actions_per_hour,
        pauses=ledger,
        noise=NoiseBound(ledger),
        known=KnownConditions(ledger),
    )
    return enforcer, functions, throttle


def build_metrics(
    settings: Settings, *, session: boto3.session.Session | None = None
) -> PerPlace[CloudWatchMetrics]:
    """CloudWatch's Lambda metrics in every watched account and region (a member's through its role)."""
    return PerPlace(sessions_for(settings, session), lambda at: CloudWatchMetrics(boto3_session=at))


def build_account_switch(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> AccountSwitch:
    """The kill switch's `pause` and `resume` of accounts: the ledger's pauses and the alert topic."""
    session = session or session_for(settings)
    return AccountSwitch(
        store=Ledger(settings.ledger_table, home=settings.home, boto3_session=session),
        alerts=SnsAlerts(settings.alert_topic_arn, boto3_session=session),
        home=settings.home,
        kill_switch_function=settings.kill_switch_function,
        clock=clock,
    )


def build_audit(settings: Settings, *, session: boto3.session.Session | None = None) -> Ledger:
    """The ledger, for reading the audit trail (the kill switch's `history`)."""
    return Ledger(settings.ledger_table, home=settings.home, boto3_session=session or session_for(settings))


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
    enforcer, _, throttle = _enforcement(settings, session=session, clock=clock)
    places = sessions_for(settings, session)
    lookups = PerPlace(
        places,
        lambda at: (queries or AthenaQueries(boto3_session=at), DataLocations(boto3_session=at)),
    )
    return AthenaWatch(
        config=config,
        region=settings.region,
        counters=AthenaCounters(
            settings.ledger_table, ttl_hours=config.counter_ttl_hours, boto3_session=session
        ),
        queries=queries or AthenaQueries(boto3_session=session),
        locations=DataLocations(boto3_session=session),
        enforcer=enforcer,
        functions=throttle.read,
        baselines=AthenaBaselines(settings.ledger_table, config.baselines, boto3_session=session),
        home=settings.home,
        elsewhere=lookups.at,
    )


def build_scan(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    attach: Callable[[boto3.session.Session], object] = lambda _session: None,
) -> tuple[list[InvocationScan], Enforcer]:
    """Build one invocation scan per watched region of the home account, and the enforcement path.

    The home region's scan keeps its cap and keys as they were; another region's are its own.
    `attach` is given each region's session (the handler counts GetMetricData calls through it).
    """
    session = session or session_for(settings)
    enforcer, _ = build_enforcer(settings, session=session)
    config, home, ledger = (
        settings.config.detectors.invocation_scan,
        settings.home,
        Ledger(settings.ledger_table, home=settings.home, boto3_session=session),
    )
    places = sessions_for(settings, session)
    watchlist = ScanWatchlist(settings.ledger_table, boto3_session=session)
    scans = []
    for region in settings.config.watched_regions(settings.region):
        at_home = region == home.region
        regional = session if at_home else places.session(home.account, region)
        attach(regional)
        scans.append(
            InvocationScan(
                metrics=CloudWatchMetrics(boto3_session=regional),
                functions=LambdaControl(boto3_session=regional),
                config=config,
                cap=DrillDownCap(ledger, config.max_drill_downs_per_hour, place="" if at_home else region),
                watchlist=watchlist,
                account=home.account,
                region=region,
            )
        )
    return scans, enforcer
