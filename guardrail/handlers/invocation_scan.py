"""Invocation-scan Lambda handler: fired by `rate(1 minute)`, enforces what the scan finds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError, field_validator

from guardrail.config import Settings
from guardrail.enforcement.reconcile import reconcile
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_scan, session_for

logger = obs.function_logger()
metrics = obs.function_metrics(obs.INVOCATION_SCAN)


class ScheduledEvent(EventBridgeModel):
    """The schedule's event: its time is the minute to scan, after a baseline of up to a day."""

    @field_validator("time")
    @classmethod
    def _window_fits(cls, value: datetime) -> datetime:
        if not 1 < value.year < 9999:
            raise ValueError("a time before the year 2 or after 9998 leaves no room for the scan's window")
        return value


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Scan the minute the schedule fired for, throttle every runaway found, reconcile what is held."""
    try:
        scheduled: ScheduledEvent = parse(event=event, model=ScheduledEvent)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors()[:5]]
        logger.warning("rejected scan event", extra={"problems": problems})
        return {"ok": False, "error": "not a scheduled EventBridge event: " + "; ".join(problems)}
    settings = Settings.from_env()
    session = session_for(settings)
    usage = obs.MetricDataUsage().attach(session)
    scan, enforcer = build_scan(settings, session=session)
    report = scan.run(scheduled.time)
    outcomes = [enforcer.enforce(finding) for finding in report.findings]
    obs.count_outcomes(
        obs.INVOCATION_SCAN, [(f.detector, o.result) for f, o in zip(report.findings, outcomes, strict=True)]
    )
    reconciled = reconcile(enforcer, scheduled.time)
    obs.count_outcomes(obs.INVOCATION_SCAN, [("reconcile", o.result) for o in reconciled])
    metrics.add_metric(name=obs.SCAN_GET_METRIC_DATA_CALLS, unit=MetricUnit.Count, value=usage.calls)
    metrics.add_metric(name=obs.SCAN_METRICS_QUERIED, unit=MetricUnit.Count, value=usage.metrics)
    if scheduled.time.minute % obs.HELD_EVERY_MINUTES == 0:
        metrics.add_metric(name=obs.FUNCTIONS_HELD, unit=MetricUnit.Count, value=len(enforcer.active()))
    results = [outcome.to_dict() for outcome in [*outcomes, *reconciled]]
    logger.info(
        "invocation scan done",
        extra={"why": report.why, "functions_scanned": report.functions_scanned, "results": results},
    )
    return {"ok": True, "drilled_down": report.drilled_down, "why": report.why, "results": results}
