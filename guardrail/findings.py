"""What detectors and the kill switch hand to enforcement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Finding:
    """A reason to throttle one Lambda function.

    `dedupe_key` identifies the signal behind the finding (for example an EventBridge
    event id), so that a second delivery of the same signal never acts twice.
    """

    function: str
    detector: str
    reason: str
    observed_at: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
