"""Athena watch Lambda handler: one EventBridge event per invocation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.config.athena_watch import DETECTOR
from guardrail.detectors.athena.booking import ActionsFailed, CountingContention
from guardrail.detectors.athena.query_events import MalformedEvent
from guardrail.detectors.athena.watch import AthenaWatch
from guardrail.errors import AwsCallFailed
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_watch

logger = obs.function_logger()
metrics = obs.function_metrics(obs.ATHENA_WATCH)
#: One watch (clients, caches) per container, and the guard's layer ARN its claims are checked against.
_watch: tuple[AthenaWatch, str] | None = None


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Book the event once, decide, act; a bad event is logged and counted, never retried.

    An event whose decision acted is logged at INFO; one that only counted (most), and a duplicate, at
    DEBUG: `POWERTOOLS_LOG_LEVEL=DEBUG` on the function shows every event.
    """
    global _watch  # noqa: PLW0603 - one watch (clients, caches) per container
    metrics.add_metric(name=obs.ATHENA_EVENTS_RECEIVED, unit=MetricUnit.Count, value=1)
    try:
        if _watch is None:  # where it acts is in its settings (`home`)
            settings = Settings.from_env()
            _watch = build_watch(settings), settings.home.layer_arn(settings.config.guard_layer_name)
        watch, guard_layer = _watch
        report = watch.handle(event, guard_layer=guard_layer)
    except MalformedEvent as exc:
        logger.warning("rejected Athena event", extra={"error": str(exc), "athena_event": event})
        metrics.add_metric(name=obs.ATHENA_EVENTS_REJECTED, unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": str(exc)}
    except (AwsCallFailed, CountingContention, ActionsFailed):
        # Booking is idempotent, so Lambda's two asynchronous retries cannot double count.
        logger.exception("Athena event failed; Lambda retries it", extra={"athena_event": event})
        metrics.add_metric(name=obs.ATHENA_EVENTS_FAILED, unit=MetricUnit.Count, value=1)
        raise
    if report.status == "unknown-query":
        logger.warning("Athena event for an unknown query id", extra={"report": asdict(report)})
        metrics.add_metric(name=obs.ATHENA_UNKNOWN_QUERIES, unit=MetricUnit.Count, value=1)
    elif report.status == "duplicate":  # EventBridge delivers at least once: expected, and counted
        logger.debug("duplicate Athena event", extra={"report": asdict(report)})
        metrics.add_metric(name=obs.ATHENA_DUPLICATE_DELIVERIES, unit=MetricUnit.Count, value=1)
    elif report.actions:
        logger.info("Athena event handled", extra={"report": asdict(report)})
    else:  # most events: a line each at INFO would be an eighth of the watch's cost (docs/bench.md)
        logger.debug("Athena event handled, nothing to do", extra={"report": asdict(report)})
    obs.count_outcomes(obs.ATHENA_WATCH, [(DETECTOR, action["result"]) for action in report.actions])
    return asdict(report)
