"""What the guardrail's functions log and measure: the shared Logger and Metrics, and the metric names.

Metrics are CloudWatch embedded-metric-format (EMF) lines on stdout, written by powertools, in the
`RunawayGuardrail` namespace. Each carries a `service` dimension: the role of the function that
published it (its name after the prefix). The stack names its functions and builds its dashboard
(`runaway_guardrail_cdk/health.py`) from these same constants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

from guardrail.config import guardrail as roles

if TYPE_CHECKING:
    import boto3

NAMESPACE = "RunawayGuardrail"
LOG_SERVICE = "runaway-guardrail"
#: The `service` dimension of each function's metrics: its role, the part of its name after the prefix.
KILL_SWITCH, RECURSION_WATCH, INVOCATION_SCAN, ATHENA_WATCH = roles.FUNCTION_ROLES

#: One count per action on a function, with dimensions `Detector` and `Result` (`throttled`,
#: `already-throttled`, `duplicate`, `error`, ...; for the Athena watch also the notices it sent).
ACTIONS = "Actions"
DETECTOR_DIMENSION = "Detector"
RESULT_DIMENSION = "Result"
#: How many functions the ledger holds throttled or flagged, read by the invocation scan every
#: HELD_EVERY_MINUTES minutes (a Query of the ledger's ActiveRecords index).
FUNCTIONS_HELD = "FunctionsHeld"
HELD_EVERY_MINUTES = 5
#: The invocation scan's CloudWatch bill: GetMetricData calls, and metrics queried ($0.01 per 1,000).
SCAN_GET_METRIC_DATA_CALLS = "ScanGetMetricDataCalls"
SCAN_METRICS_QUERIED = "ScanMetricsQueried"
#: Events the Athena watch received, rejected as malformed, failed on (Lambda retries), could not
#: match to a query, and saw twice.
ATHENA_EVENTS_RECEIVED = "AthenaEventsReceived"
ATHENA_EVENTS_REJECTED = "AthenaEventsRejected"
ATHENA_EVENTS_FAILED = "AthenaEventsFailed"
ATHENA_UNKNOWN_QUERIES = "AthenaUnknownQueries"
ATHENA_DUPLICATE_DELIVERIES = "AthenaDuplicateDeliveries"
#: Signals the recursion watch received, and those it refused (wrong shape or unverified sender).
RECURSION_SIGNALS_RECEIVED = "RecursionSignalsReceived"
RECURSION_SIGNALS_REJECTED = "RecursionSignalsRejected"


def function_logger() -> Logger:
    """The function's structured logger; the `guardrail` package's loggers log through its set-up."""
    logger = Logger(service=LOG_SERVICE)
    copy_config_to_registered_loggers(source_logger=logger, include={"guardrail"})
    return logger


def function_metrics(service: str) -> Metrics:
    """The function's metrics, flushed as one EMF line when its handler (decorated) returns."""
    return Metrics(namespace=NAMESPACE, service=service)


def outcome_counts(outcomes: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """How many actions of each (detector, result)."""
    return Counter((str(detector), str(result)) for detector, result in outcomes)


def count_outcomes(service: str, outcomes: Iterable[tuple[str, str]]) -> Counter[tuple[str, str]]:
    """Publish `Actions` once per (detector, result) pair, with its count, now; return the counts.

    Each pair is its own EMF line (powertools' `single_metric`), because the dimensions differ.
    """
    counts = outcome_counts(outcomes)
    for (detector, result), count in sorted(counts.items()):
        dimensions = {"service": service, DETECTOR_DIMENSION: detector, RESULT_DIMENSION: result}
        with single_metric(
            name=ACTIONS,
            unit=MetricUnit.Count,
            value=count,
            namespace=NAMESPACE,
            default_dimensions=dimensions,
        ):
            pass  # published when the block closes
    return counts


@dataclass
class MetricDataUsage:
    """Counts the GetMetricData calls, and the metrics they query, of clients made from one session."""

    calls: int = 0
    metrics: int = 0

    def attach(self, session: boto3.session.Session) -> MetricDataUsage:
        """Count the calls of every CloudWatch client created from `session` from now on."""
        session.events.register("before-parameter-build.cloudwatch.GetMetricData", self._count)
        return self

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        self.metrics += len(params.get("MetricDataQueries", []))
