"""What a target had before the guardrail acted, kept in the ledger to put back exactly on restore."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: What a target had before the guardrail acted, to put back on restore: a function's reserved
#: concurrency (None: no reservation) or, when its throttle paused event sources, a `FunctionPrior`'s
#: value; a workgroup's state (`ENABLED` / `DISABLED`). Serialisable: the ledger stores it as it is.
PriorState = int | str | Mapping[str, Any] | None


#: Event source mapping states that feed, or may soon feed, a function: a throttle pauses them.
FEEDING_STATES = frozenset({"Enabled", "Enabling", "Creating", "Updating"})


@dataclass(frozen=True)
class EventSourceMapping:
    """An event source mapping of a function: its UUID, its source's ARN, its state when read."""

    uuid: str
    source_arn: str
    state: str = "Enabled"

    @property
    def is_stream(self) -> bool:
        """A Kinesis or DynamoDB stream: its records expire after the stream's retention period."""
        return ":kinesis:" in self.source_arn or ":dynamodb:" in self.source_arn


@dataclass(frozen=True)
class FunctionPrior:
    """What restoring a throttled function puts back: its reservation, and the mappings it paused.

    `paused`: the mappings in a `FEEDING_STATES` state when the throttle read the function; the
    throttle disables them, the restore enables exactly them (one disabled before stays disabled).
    `unlisted`: why they could not be listed (then none is paused). Stored as the bare reservation
    when there is nothing else to say (as every older record is), else as a mapping.
    """

    reservation: int | None
    paused: tuple[EventSourceMapping, ...] = ()
    unlisted: str = ""

    def value(self) -> PriorState:
        """The serialisable form kept in the ledger."""
        if not (self.paused or self.unlisted):
            return self.reservation
        paused = [asdict(m) for m in self.paused]
        return {"reservation": self.reservation, "paused": paused, "unlisted": self.unlisted}

    @classmethod
    def of(cls, prior: PriorState) -> FunctionPrior:
        """Read a ledger value: a bare reservation (None: unreserved) or `value()`'s mapping."""
        if not isinstance(prior, Mapping):
            return cls(None if prior is None else int(prior))
        reservation = prior.get("reservation")
        paused = tuple(EventSourceMapping(**{k: str(v) for k, v in m.items()}) for m in prior["paused"])
        return cls(None if reservation is None else int(reservation), paused, str(prior.get("unlisted", "")))


@dataclass(frozen=True)
class WorkgroupPrior:
    """What restoring a disabled workgroup puts back: its state, and what its configuration was.

    `configuration`: a fingerprint of the workgroup's configuration when it was disabled; a restore
    enables it only if the configuration is still the same. Stored as the bare state when there is
    no fingerprint (as every record written before is, and restored without the check).
    """

    state: str
    configuration: str = ""

    def value(self) -> PriorState:
        """The serialisable form kept in the ledger."""
        if not self.configuration:
            return self.state
        return {"state": self.state, "configuration": self.configuration}

    @classmethod
    def of(cls, prior: PriorState) -> WorkgroupPrior:
        """Read a ledger value: a bare state or `value()`'s mapping."""
        if isinstance(prior, Mapping):
            return cls(str(prior["state"]), str(prior.get("configuration", "")))
        return cls(str(prior))


@dataclass(frozen=True)
class ActionReport:
    """Beside an action's main change (which stands): what could not be done, what the alert tells."""

    failures: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    #: A restore's: the target itself was left as it is (changed meanwhile), not put back.
    kept: bool = False
