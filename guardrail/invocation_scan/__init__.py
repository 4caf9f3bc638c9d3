"""The invocation scan: catches runaway functions that do not use the recursion guard."""

from guardrail.invocation_scan.config import DETECTOR, InvocationScanConfig
from guardrail.invocation_scan.detect import Sample, account_moved, detect
from guardrail.invocation_scan.metrics import CloudWatchMetrics, MetricQuery
from guardrail.invocation_scan.scan import InvocationScan, ScanReport

__all__ = [
    "DETECTOR",
    "CloudWatchMetrics",
    "InvocationScan",
    "InvocationScanConfig",
    "MetricQuery",
    "Sample",
    "ScanReport",
    "account_moved",
    "detect",
]
