"""The domain: targets, findings, facts, ledger records, outcomes. No AWS here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from guardrail.prior_state import FunctionPrior, PriorState, WorkgroupPrior


class TargetKind(StrEnum):
    """The kinds of thing in the account that the guardrail changes (and undoes)."""

    FUNCTION = "function"
    WORKGROUP = "workgroup"

    @property
    def plural(self) -> str:
        """The kill switch's request field for this kind: `functions`, `workgroups`."""
        return f"{self.value}s"


@dataclass(frozen=True, order=True)
class Target:
    """One thing the guardrail acts on: a Lambda function, an Athena workgroup, in an account and region.

    An empty `account` or `region` stands for the guardrail's own (`located` fills them in); every
    record, result and alert the Enforcer writes names both.
    """

    kind: TargetKind
    name: str
    account: str = ""
    region: str = ""

    @classmethod
    def function(cls, name: str, account: str = "", region: str = "") -> Target:
        """A Lambda function, by name (and where it runs)."""
        return cls(TargetKind.FUNCTION, name, account, region)

    @classmethod
    def workgroup(cls, name: str, account: str = "", region: str = "") -> Target:
        """An Athena workgroup, by name (and where it is)."""
        return cls(TargetKind.WORKGROUP, name, account, region)

    def located(self, account: str, region: str) -> Target:
        """The same target, its blank account and region filled with these."""
        return replace(self, account=self.account or account, region=self.region or region)

    @property
    def where(self) -> str:
        """`account 123456789012, region us-west-2` (what is known of it)."""
        parts = [
            f"account {self.account}" if self.account else "",
            f"region {self.region}" if self.region else "",
        ]
        return ", ".join(part for part in parts if part)

    def __str__(self) -> str:
        return f"{self.kind.value} {self.name}"


@dataclass(frozen=True)
class Expectation:
    """What a function's own configuration must show before a finding may act on it (docs/trust-model.md).

    None: nothing is expected. Any other value, the empty string included, must be borne out.
    """

    guard_layer: str | None = None  # it runs the recursion guard: carries this layer (any version)
    role_arn: str | None = None  # it runs with this execution role


@dataclass(frozen=True)
class Finding:
    """A reason to act on one target (throttle a function, disable a workgroup).

    `dedupe_key` identifies the signal behind the finding (for example an EventBridge
    event id), so that a second delivery of the same signal never acts twice. A finding with a
    `doubt`, or whose `expect` the target does not bear out, is unverified: alerted as such, and
    nothing is changed. `fallback` is what the Enforcer does instead when the finding cannot act on
    its target.
    """

    target: Target
    detector: str
    reason: str
    observed_at: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    doubt: str = ""
    expect: Expectation = Expectation()
    fallback: Fallback | None = None

    def unverified(self, doubt: str) -> Finding:
        """The same finding, marked unverified for the reason given.

        Its dedupe key is its own: a forged signal must never use up the key of the real one.
        """
        key = f"unverified:{self.dedupe_key}" if self.dedupe_key else None
        return replace(self, doubt=doubt, dedupe_key=key)


@dataclass(frozen=True)
class Notice:
    """Something people must hear about that changes nothing in the account.

    For example an Athena caller that is not a Lambda function. `dedupe_key` sends it once per key.
    """

    subject: str
    detector: str
    reason: str
    observed_at: datetime
    evidence: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    doubt: str = ""  # set: an unverified signal, alerted as such (the headline says so)
    account: str = ""  # where the subject is, when known
    region: str = ""
    #: Set: a condition that may recur (told once in full, then in the daily digest; see `Condition`).
    condition: Condition | None = None


@dataclass(frozen=True)
class Condition:
    """What makes a notice's condition the same as one told before (`guardrail.enforcement.known`).

    `parts` name it beyond the notice's detector, subject, account and region: the rule and what the
    subject did (for a cross-region read: the Athena region and each remote table with its region).
    Every part comes from AWS's record of what happened (CloudTrail's caller, Glue's table locations),
    never from text a caller writes. `size_bytes`: how large this occurrence is (a cross-region read's
    bytes); one over `MUCH_LARGER` times the size last told is told again in full.
    """

    parts: tuple[str, ...]
    size_bytes: int = 0
    #: One line for the digest: what recurs (`read sales.orders (ap-northeast-1) into us-west-2`).
    summary: str = ""
    #: False: a condition that only informs, told in the daily digest only (never alone).
    in_full: bool = True


@dataclass(frozen=True)
class DigestEntry:
    """One known condition that recurred on a day: how often, how much, when, its latest reason."""

    subject: str
    detector: str
    summary: str
    count: int
    size_bytes: int
    first_seen: datetime
    last_seen: datetime
    reason: str
    account: str = ""
    region: str = ""


@dataclass(frozen=True)
class Digest:
    """A day's known conditions that recurred, told in one message (`more`: entries not shown)."""

    day: str  # YYYY-MM-DD, UTC
    entries: tuple[DigestEntry, ...]
    more: int = 0


@dataclass(frozen=True)
class Fallback:
    """What is done instead of a finding that cannot act on its target: another finding, or a notice.

    It takes over when the target does not exist, or does not bear out what the finding expects
    (`Finding.expect`: it is not the target the signal meant); and, where `if_exempt`, when the target
    is exempt (a workgroup a caller ran in may be exempt, the caller not). Any other end (applied,
    flagged, held back by a pause, a duplicate, an error) is the finding's own. A notice is not sent
    after a finding alerted as unverified: that alert was the notice.
    """

    then: Finding | Notice
    if_exempt: bool = False


@dataclass(frozen=True)
class FunctionFacts:
    """What the guardrail knows about a function before acting on it."""

    name: str
    reserved_concurrency: int | None
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None  # its execution role
    layers: tuple[str, ...] = ()  # the ARNs (with version) of the layers it carries


class WorkgroupState(StrEnum):
    """An Athena workgroup's state: queries start only in an ENABLED workgroup."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class TargetFacts:
    """What the guardrail knows about any target before acting: the state to put back, its tags."""

    target: Target
    prior: PriorState
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None  # a function's execution role
    layers: tuple[str, ...] = ()  # a function's layers


class Status(StrEnum):
    """State of a target's ledger record; every move between states is a conditional write.

    The states, the events that move a record and every allowed move are written once, in
    `guardrail.enforcement.lifecycle` (`TRANSITIONS`). The stored values date from when every record
    was a throttle: `throttled` means the action is applied, whatever the kind (a function throttled,
    a workgroup disabled). `applying` and `restoring` are in progress (or crashed): the prior state
    they hold is already the truth. `flagged`: recorded and alerted, the target untouched (notify-only,
    or held back by the circuit breaker); re-evaluated until it is applied or cleared.
    """

    APPLYING = "applying"
    ENFORCED = "throttled"
    FLAGGED = "flagged"  # notify-only: recorded and alerted, target untouched
    RESTORING = "restoring"
    RESTORED = "restored"

    @property
    def in_progress(self) -> bool:
        """True while an action or a restore is under way (or crashed half-way)."""
        return self in (Status.APPLYING, Status.RESTORING)


@dataclass(frozen=True)
class ActionRecord:
    """What the guardrail did to a target, and what it had before."""

    target: Target
    status: Status
    prior: PriorState
    record_id: str
    acted_at: datetime
    detector: str
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    restored_at: datetime | None = None
    changed_at: datetime | None = None  # when it entered its state, if after `acted_at`
    #: How many times it has changed state: every move is conditional on it, so a caller who read it
    #: before another move (even one in the same instant) can never move it.
    moves: int = 0

    @property
    def since(self) -> datetime:
        """When the record entered its present state."""
        return self.changed_at or self.acted_at

    @property
    def active(self) -> bool:
        """True while the action is applied or flagged."""
        return self.status is not Status.RESTORED


@dataclass(frozen=True)
class Takeover:
    """Who a record belongs to from a transition on: written with it, atomically.

    An operator's request (or a finding that enforces a flagged record) takes the record over:
    its detector, reason and evidence become the taker's. The prior state is written only when
    nothing was applied before (`prior_read`: a flagged record, whose target was never touched);
    a held record's prior state is never overwritten.
    """

    detector: str
    reason: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    prior: PriorState = None
    prior_read: bool = False


#: How a record held back by the circuit breaker says so: its evidence's `held_back` starts with this.
HELD_BY_BREAKER = "circuit breaker open"


@dataclass(frozen=True)
class BreakerSlot:
    """One automatic action counted by the circuit breaker of an account and region, for one window."""

    account: str
    region: str
    slot: int
    taken_at: datetime
    target: str = ""  # what took it, for the breaker's alert and `status`


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail."""

    target: Target
    action: str
    result: str
    at: datetime
    detector: str = ""
    reason: str = ""
    detail: str = ""


class Result(StrEnum):
    """What happened to one target (or to one notice)."""

    THROTTLED = "throttled"
    ALREADY_THROTTLED = "already-throttled"
    NOT_THROTTLED = "not-throttled"
    WOULD_THROTTLE = "would-throttle"
    DISABLED = "disabled"
    ALREADY_DISABLED = "already-disabled"
    NOT_DISABLED = "not-disabled"
    WOULD_DISABLE = "would-disable"
    RESTORED = "restored"
    EXEMPT = "exempt"
    NOT_FOUND = "not-found"
    # notify-only equivalents shared by every kind: recorded and alerted, target untouched
    ALREADY_FLAGGED = "already-flagged"
    CLEARED = "cleared"
    # a second delivery of a signal that was already acted on
    DUPLICATE = "duplicate"
    # the ledger holds the target in `applying` or `restoring`: another request is under way
    IN_PROGRESS = "in-progress"
    # a held target found running again was stopped again, its prior state kept
    DRIFT = "drift"
    # a restore let go of a target changed while held (a workgroup's configuration) without putting
    # it back: the record is closed, the target left as it is for an operator to check
    LEFT_AS_IS = "left-as-is"
    # a signal that may not act on its own (docs/trust-model.md): alerted as unverified, nothing changed
    UNVERIFIED = "unverified"
    ERROR = "error"
    # notices
    ALERTED = "alerted"
    ALREADY_ALERTED = "already-alerted"
    # a notice about a condition told before: counted in the day's digest, not alerted on its own
    DIGESTED = "digested"


@dataclass(frozen=True)
class Vocabulary:
    """How one kind of target's actions read: the verb, and its results."""

    verb: str  # the audit trail's action name, and the alerts' wording: throttle, disable
    applied: Result
    already: Result
    not_held: Result
    would: Result
    prior_field: str  # the answer's name for the prior state


VOCABULARY: Mapping[TargetKind, Vocabulary] = {
    TargetKind.FUNCTION: Vocabulary(
        "throttle",
        Result.THROTTLED,
        Result.ALREADY_THROTTLED,
        Result.NOT_THROTTLED,
        Result.WOULD_THROTTLE,
        "prior_reservation",
    ),
    TargetKind.WORKGROUP: Vocabulary(
        "disable",
        Result.DISABLED,
        Result.ALREADY_DISABLED,
        Result.NOT_DISABLED,
        Result.WOULD_DISABLE,
        "prior_state",
    ),
}


@dataclass(frozen=True)
class Outcome:
    """The result for one target, with what an operator needs to know about it."""

    target: Target
    result: Result
    detail: str = ""
    prior: PriorState = None
    alert_sent: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Render for the kill switch's JSON answer: `{"function": ..., "result": ...}` and so on."""
        words = VOCABULARY[self.target.kind]
        out: dict[str, Any] = {self.target.kind.value: self.target.name, "result": self.result.value}
        out |= {key: value for key in ("account", "region") if (value := getattr(self.target, key))}
        if self.detail:
            out["detail"] = self.detail
        shown = (words.applied, words.would, Result.RESTORED, Result.CLEARED, Result.DRIFT, Result.LEFT_AS_IS)
        if self.result in shown:
            out |= prior_fields(self.target.kind, self.prior)
            out["alert_sent"] = self.alert_sent
        elif self.result is Result.UNVERIFIED:
            out["alert_sent"] = self.alert_sent
        if self.error:
            out["error"] = self.error
        return out


def prior_fields(kind: TargetKind, prior: PriorState) -> dict[str, Any]:
    """The answer's fields for a prior state: `prior_reservation` (and `paused_event_sources`)."""
    words = VOCABULARY[kind]
    if kind is not TargetKind.FUNCTION:
        return {words.prior_field: WorkgroupPrior.of(prior).state}
    function = FunctionPrior.of(prior)
    out: dict[str, Any] = {words.prior_field: function.reservation}
    if function.paused:
        out["paused_event_sources"] = [asdict(m) for m in function.paused]
    return out
