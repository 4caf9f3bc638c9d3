"""Runaway Guardrail: stop runaway Lambda recursion and Athena query storms."""

__version__ = "0.1.0"
