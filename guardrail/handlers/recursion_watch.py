"""Recursion-watch Lambda handler: recursion signals from the event bus -> the enforcement path."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event
from guardrail.handlers.composition import build_enforcer

logger = Logger(service="runaway-guardrail")
copy_config_to_registered_loggers(source_logger=logger, include={"guardrail"})


@logger.inject_lambda_context(log_event=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Turn one guard refusal, AWS Health notice or alarm into findings and enforce them."""
    try:
        findings = findings_from_event(event, account=context.invoked_function_arn.split(":")[4])
    except UnsupportedEvent as exc:
        logger.warning("ignored event", extra={"error": str(exc)})
        return {"ok": False, "error": str(exc)}
    if not findings:
        return {"ok": True, "results": []}
    enforcer, _ = build_enforcer(Settings.from_env())
    results = [enforcer.enforce(finding).to_dict() for finding in findings]
    logger.info("recursion signal enforced", extra={"results": results})
    return {"ok": True, "results": results}
