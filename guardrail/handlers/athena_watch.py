"""Athena watch Lambda handler: one EventBridge event per invocation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from guardrail.detectors.athena.events import MalformedEvent
from guardrail.detectors.athena.model import CountingContention
from guardrail.detectors.athena.watch import AthenaWatch
from guardrail.handlers.composition import build_watch
from guardrail.settings import Settings

logger = Logger(service="runaway-guardrail")
metrics = Metrics(namespace="RunawayGuardrail", service="athena-watch")
copy_config_to_registered_loggers(source_logger=logger, include={"guardrail"})
_watch: AthenaWatch | None = None


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Book the event once, decide, act; a bad event is logged and counted, never retried."""
    global _watch  # noqa: PLW0603 - one watch (clients, caches) per container
    metrics.add_metric(name="AthenaEventsReceived", unit=MetricUnit.Count, value=1)
    try:
        _watch = _watch or build_watch(Settings.from_env())
        report = _watch.handle(event, account=context.invoked_function_arn.split(":")[4])
    except MalformedEvent as exc:
        logger.warning("rejected Athena event", extra={"error": str(exc), "athena_event": event})
        metrics.add_metric(name="AthenaEventsRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": str(exc)}
    except (ClientError, BotoCoreError, CountingContention):
        # Booking is idempotent, so Lambda's two asynchronous retries cannot double count.
        logger.exception("Athena event failed; Lambda retries it", extra={"athena_event": event})
        metrics.add_metric(name="AthenaEventsFailed", unit=MetricUnit.Count, value=1)
        raise
    if report.status == "unknown-query":
        logger.warning("Athena event for an unknown query id", extra={"report": asdict(report)})
        metrics.add_metric(name="AthenaUnknownQueries", unit=MetricUnit.Count, value=1)
    elif report.status == "duplicate":  # EventBridge delivers at least once: expected, and counted
        logger.info("duplicate Athena event", extra={"report": asdict(report)})
        metrics.add_metric(name="AthenaDuplicateDeliveries", unit=MetricUnit.Count, value=1)
    else:
        logger.info("Athena event handled", extra={"report": asdict(report)})
    return asdict(report)
