"""Athena watch: catch runaway query rates, scanned bytes and cross-region reads, and stop the caller."""

from guardrail.config.athena_watch import DETECTOR, AthenaWatchConfig
from guardrail.detectors.athena.booking import Report
from guardrail.detectors.athena.watch import AthenaWatch

__all__ = ["DETECTOR", "AthenaWatch", "AthenaWatchConfig", "Report"]
