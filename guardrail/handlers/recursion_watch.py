"""Recursion-watch Lambda handler: recursion signals from the event bus -> the enforcement path."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.detectors.recursion_alarms import check_alarms
from guardrail.detectors.recursion_signals import UnsupportedEvent, findings_from_event
from guardrail.domain import Outcome, Result
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_enforcer, build_metrics

logger = obs.function_logger()
metrics = obs.function_metrics(obs.RECURSION_WATCH)


@metrics.log_metrics
@logger.inject_lambda_context(log_event=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Turn one guard refusal, AWS Health notice or alarm into findings and enforce them.

    Unverified findings (docs/trust-model.md) are alerted as such by the enforcer and change nothing;
    so are an alarm's functions that Lambda's own metric does not bear out (one alert per alarm).
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
    checked = check_alarms(findings, metrics=build_metrics(settings).at)
    done = [(f.detector, enforcer.enforce(f)) for f in checked.enforce]
    for held in checked.held_back:
        sent = enforcer.notify(held.notice)
        doubt = held.notice.doubt + (" (alerted already)" if sent is Result.ALREADY_ALERTED else "")
        error = "the unverified alert was not sent" if sent is Result.ERROR else None
        done += [
            (
                held.notice.detector,
                Outcome(t, Result.UNVERIFIED, doubt, alert_sent=sent is Result.ALERTED, error=error),
            )
            for t in held.targets
        ]
    obs.count_outcomes(obs.RECURSION_WATCH, [(detector, o.result) for detector, o in done])
    results = [outcome.to_dict() for _, outcome in done]
    logger.info("recursion signal enforced", extra={"results": results})
    return {"ok": True, "results": results}
