"""Recursion-watch Lambda handler: recursion signals from the event bus -> the enforcement path."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_enforcer

logger = obs.function_logger()
metrics = obs.function_metrics(obs.RECURSION_WATCH)


@metrics.log_metrics
@logger.inject_lambda_context(log_event=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Turn one guard refusal, AWS Health notice or alarm into findings and enforce them.

    Unverified findings (docs/trust-model.md) are alerted as such by the enforcer and change nothing.
    """
    metrics.add_metric(name=obs.RECURSION_SIGNALS_RECEIVED, unit=MetricUnit.Count, value=1)
    settings = Settings.from_env()
    scope = settings.home
    try:
        findings = findings_from_event(
            event, scope=scope, guard_layer=scope.layer_arn(settings.config.guard_layer_name)
        )
    except UnsupportedEvent as exc:
        logger.warning("ignored event", extra={"error": str(exc)})
        metrics.add_metric(name=obs.RECURSION_SIGNALS_REJECTED, unit=MetricUnit.Count, value=1)
        return {"ok": False, "error": str(exc)}
    if not findings:
        return {"ok": True, "results": []}
    enforcer, _ = build_enforcer(settings)
    outcomes = [enforcer.enforce(finding) for finding in findings]
    obs.count_outcomes(
        obs.RECURSION_WATCH, [(f.detector, o.result) for f, o in zip(findings, outcomes, strict=True)]
    )
    results = [outcome.to_dict() for outcome in outcomes]
    logger.info("recursion signal enforced", extra={"results": results})
    return {"ok": True, "results": results}
