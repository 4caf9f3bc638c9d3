"""Wires settings to the Athena watch's adapters, for code running inside the guardrail function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import boto3

from guardrail.alerts.sns import SnsAlerts
from guardrail.athena.config import DETECTOR, AthenaWatchConfig
from guardrail.athena.counters import AthenaCounters
from guardrail.athena.lookups import AthenaQueries, DataLocations, WorkgroupSwitch
from guardrail.athena.notices import Notices
from guardrail.athena.ports import QueryLookup
from guardrail.athena.watch import AthenaWatch
from guardrail.enforcement.enforcer import utc_now
from guardrail.ledger import Ledger
from guardrail.runtime import build_enforcer
from guardrail.settings import Settings


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
    session = session or boto3.session.Session(region_name=settings.region)
    config = AthenaWatchConfig.from_mapping(settings.detector(DETECTOR))
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
        notices=Notices(
            signals=Ledger(settings.ledger_table, boto3_session=session),
            alerts=SnsAlerts(settings.alert_topic_arn, boto3_session=session),
            workgroups=WorkgroupSwitch(boto3_session=session),
            region=settings.region,
        ),
    )
