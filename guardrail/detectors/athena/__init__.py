"""Athena watch: catch runaway query rates, scanned bytes and cross-region reads, and stop the caller."""

from guardrail.detectors.athena.config import DETECTOR, AthenaWatchConfig, AthenaWatchConfigError
from guardrail.detectors.athena.watch import AthenaWatch, Report

__all__ = ["DETECTOR", "AthenaWatch", "AthenaWatchConfig", "AthenaWatchConfigError", "Report"]
