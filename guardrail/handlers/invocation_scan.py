"""Invocation-scan Lambda handler: fired by `rate(1 minute)`, enforces what the scan finds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError, field_validator

from guardrail.handlers.composition import build_scan
from guardrail.settings import Settings

logger = Logger(service="runaway-guardrail")
copy_config_to_registered_loggers(source_logger=logger, include={"guardrail"})


class ScheduledEvent(EventBridgeModel):
    """The schedule's event: its time is the minute to scan, after a baseline of up to a day."""

    @field_validator("time")
    @classmethod
    def _window_fits(cls, value: datetime) -> datetime:
        if not 1 < value.year < 9999:
            raise ValueError("a time before the year 2 or after 9998 leaves no room for the scan's window")
        return value


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Scan the minute the schedule fired for, and throttle every runaway found."""
    try:
        scheduled: ScheduledEvent = parse(event=event, model=ScheduledEvent)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors()[:5]]
        logger.warning("rejected scan event", extra={"problems": problems})
        return {"ok": False, "error": "not a scheduled EventBridge event: " + "; ".join(problems)}
    scan, enforcer = build_scan(Settings.from_env())
    report = scan.run(scheduled.time)
    results = [enforcer.throttle(finding).to_dict() for finding in report.findings]
    logger.info(
        "invocation scan done",
        extra={"why": report.why, "functions_scanned": report.functions_scanned, "results": results},
    )
    return {"ok": True, "drilled_down": report.drilled_down, "why": report.why, "results": results}
