"""The invocation scan: catches runaway functions that do not use the recursion guard."""

from guardrail.config.invocation_scan import DETECTOR, InvocationScanConfig
from guardrail.detectors.invocation_scan.detect import (
    MetricQuery,
    Sample,
    account_invocations_moved,
    detect,
    recent_drops,
)
from guardrail.detectors.invocation_scan.scan import DrillDownCap, InvocationScan, ScanReport

__all__ = [
    "DETECTOR",
    "DrillDownCap",
    "InvocationScan",
    "InvocationScanConfig",
    "MetricQuery",
    "Sample",
    "ScanReport",
    "account_invocations_moved",
    "detect",
    "recent_drops",
]
