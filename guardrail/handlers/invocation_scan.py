"""Invocation-scan Lambda handler: fired by `rate(1 minute)`, enforces what the scan finds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.enforcement.reconcile import reconcile
from guardrail.handlers.composition import build_scan

logger = Logger(service="runaway-guardrail")
copy_config_to_registered_loggers(source_logger=logger, include={"guardrail"})


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Scan the minute the schedule fired for, throttle every runaway found, reconcile what is held."""
    scheduled: EventBridgeModel = parse(event=event, model=EventBridgeModel)
    scan, enforcer = build_scan(Settings.from_env())
    report = scan.run(scheduled.time)
    results = [enforcer.enforce(finding).to_dict() for finding in report.findings]
    results += [outcome.to_dict() for outcome in reconcile(enforcer, scheduled.time)]
    logger.info(
        "invocation scan done",
        extra={"why": report.why, "functions_scanned": report.functions_scanned, "results": results},
    )
    return {"ok": True, "drilled_down": report.drilled_down, "why": report.why, "results": results}
