"""The invocation scan: catches runaway functions that do not use the recursion guard."""

from guardrail.config.invocation_scan import DETECTOR, InvocationScanConfig
from guardrail.detectors.invocation_scan.detect import MetricQuery, Sample, account_moved, detect
from guardrail.detectors.invocation_scan.scan import InvocationScan, ScanReport

__all__ = [
    "DETECTOR",
    "InvocationScan",
    "InvocationScanConfig",
    "MetricQuery",
    "Sample",
    "ScanReport",
    "account_moved",
    "detect",
]
