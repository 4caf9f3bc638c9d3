"""The lines of a function's alert about what fed it: event sources paused or resumed, async risk."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from guardrail.prior_state import ActionReport, FunctionPrior, PriorState


def reservation_text(reservation: int | None) -> str:
    """A reserved concurrency in words."""
    return "none (unreserved)" if reservation is None else str(reservation)


_STREAM_RISK = "records expire after the stream's retention period (24 h by default): restore before"
_ASYNC_RISK = "Lambda retries them for up to 6 h, then"


def paused(verb: str, prior_state: PriorState, report: ActionReport) -> tuple[dict[str, Any], list[str]]:
    """A function's event sources paused (or resumed), what could not be, and what async calls risk."""
    prior = FunctionPrior.of(prior_state)
    left = set(report.facts.get("left_as_is", ()))  # a restore's: changed meanwhile, not resumed
    lines = [
        f"{verb + ':':<20} event source {m.source_arn} ({m.uuid})" for m in prior.paused if m.uuid not in left
    ]
    lines += [f"{'':<20} {m.source_arn}: {_STREAM_RISK}" for m in prior.paused if m.is_stream]
    lines += [f"{'Not done:':<20} {failure}" for failure in report.failures]
    document: dict[str, Any] = {
        "prior_reserved_concurrency": prior.reservation,
        "paused_event_sources": [asdict(m) for m in prior.paused],
    }
    if report.failures:
        document["not_done"] = list(report.failures)
    if "async_failure_targets" in report.facts:
        targets: dict[str, str] = dict(report.facts["async_failure_targets"])
        kept = " and ".join(f"sent to {key.replace('_', '-')} {arn}" for key, arn in sorted(targets.items()))
        fate = kept or "dropped (no DLQ, no on-failure destination)"
        lines.append(f"{'Async invocations:':<20} {_ASYNC_RISK} {fate}")
        document["async_failure_targets"] = targets
    return document, lines
