"""Wires settings to adapters for code running inside a guardrail function."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import boto3

from guardrail.alerts.sns import SnsAlerts
from guardrail.enforcement.enforcer import Enforcer, utc_now
from guardrail.lambda_control import LambdaControl
from guardrail.ledger import Ledger
from guardrail.settings import Settings


def build_enforcer(
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Enforcer, LambdaControl]:
    """Build the enforcement path (and its Lambda adapter) for the given settings."""
    session = session or boto3.session.Session(region_name=settings.region)
    functions = LambdaControl(boto3_session=session)
    enforcer = Enforcer(
        settings=settings,
        functions=functions,
        ledger=Ledger(settings.ledger_table, boto3_session=session),
        alerts=SnsAlerts(settings.alert_topic_arn, boto3_session=session),
        clock=clock,
    )
    return enforcer, functions
