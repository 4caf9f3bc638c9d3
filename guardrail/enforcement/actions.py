"""The changes the guardrail makes to the account: one small class per kind of target.

Shaped after Cloud Custodian's actions: a docstring, the IAM `permissions` the action needs (the
stack grants exactly these), `validate()` that rejects a bad name before anything runs, and the
steps the Enforcer drives: `read` the state to put back, `apply`, `holds` (is it still applied?),
`put_back`. They call AWS through a port only. A new kind of action is one more class
here, registered with `@register`, plus its adapter and the kind's words in `guardrail.domain`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from guardrail.domain import Target, TargetFacts, TargetKind, WorkgroupState
from guardrail.enforcement.ports import EventSourceControl, FunctionControl, WorkgroupControl
from guardrail.errors import AwsCallFailed, InvalidTargetRef
from guardrail.functions import Scope, function_name
from guardrail.prior_state import FEEDING_STATES, ActionReport, FunctionPrior, PriorState

_WORKGROUP_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class TargetAction(ABC):
    """One kind of change to the account, and how it is undone exactly."""

    kind: ClassVar[TargetKind]
    #: IAM actions the action calls (through its adapter); the stack's policy is built from them.
    permissions: ClassVar[tuple[str, ...]]

    @classmethod
    @abstractmethod
    def validate(cls, ref: str, scope: Scope) -> str:
        """The name of the target in `scope` that `ref` refers to; raises InvalidTargetRef."""

    @abstractmethod
    def read(self, name: str) -> TargetFacts:
        """The target's state that `put_back` restores, and its tags; raises TargetNotFound."""

    @abstractmethod
    def apply(self, name: str, prior: PriorState) -> ActionReport:
        """Stop the target, given what `read` recorded (raises TargetNotFound or AwsCallFailed).

        What could not be done beside the main change, which stands, is in the report.
        """

    @abstractmethod
    def holds(self, name: str) -> bool:
        """True when the target is stopped as `apply` left it (reconciliation reads this)."""

    @abstractmethod
    def put_back(self, name: str, prior: PriorState) -> None:
        """Put back exactly the state `read` found before the first action."""


#: Every kind of action, by the kind of target it acts on.
ACTIONS: dict[TargetKind, type[TargetAction]] = {}
_Action = TypeVar("_Action", bound=type[TargetAction])


def register(action: _Action) -> _Action:
    """Class decorator: make an action known to the kill switch's requests and the stack's IAM."""
    ACTIONS[action.kind] = action
    return action


@register
class ThrottleFunction(TargetAction):
    """Set a Lambda function's reserved concurrency to 0 and pause what feeds it.

    Reserved concurrency 0 does not stop event source mappings: their pollers keep receiving, every
    batch is throttled, and SQS messages go to the DLQ after `maxReceiveCount` (stream records expire
    with the stream's retention). So the throttle also disables the mappings that feed the function,
    and the restore enables exactly those again (see `FunctionPrior`).
    """

    kind = TargetKind.FUNCTION
    permissions = (
        "lambda:GetFunction",
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:ListEventSourceMappings",
        "lambda:UpdateEventSourceMapping",
        "lambda:GetFunctionEventInvokeConfig",
    )

    def __init__(self, functions: FunctionControl, event_sources: EventSourceControl) -> None:
        self._functions = functions
        self._event_sources = event_sources

    @classmethod
    def validate(cls, ref: str, scope: Scope) -> str:
        """A function name, from a name or a full or partial ARN of a function in `scope`."""
        return function_name(ref, scope)

    def read(self, name: str) -> TargetFacts:
        """Its reservation (None: unreserved) and the mappings feeding it; its tags, role and layers."""
        facts = self._functions.facts(name)
        try:
            mappings = self._event_sources.mappings(facts.name)
        except AwsCallFailed as exc:  # the throttle must not wait for this: reported by `apply`
            prior = FunctionPrior(facts.reserved_concurrency, unlisted=str(exc))
        else:
            feeding = tuple(m for m in mappings if m.state in FEEDING_STATES)
            prior = FunctionPrior(facts.reserved_concurrency, feeding)
        return TargetFacts(
            Target.function(facts.name), prior.value(), facts.tags, facts.role_arn, facts.layers
        )

    def apply(self, name: str, prior: PriorState) -> ActionReport:
        """Reserved concurrency 0 (no new invocation starts), then pause the recorded mappings.

        A mapping that cannot be paused is reported, not raised: the throttle stands.
        """
        self._functions.set_reserved(name, 0)
        function = FunctionPrior.of(prior)
        failures = (
            [f"event sources not listed, none paused: {function.unlisted}"] if function.unlisted else []
        )
        for mapping in function.paused:
            try:
                self._event_sources.set_enabled(mapping, False)
            except AwsCallFailed as exc:
                failures.append(f"event source {mapping.source_arn} ({mapping.uuid}) not paused: {exc}")
        try:
            facts = {"async_failure_targets": self._event_sources.async_failure_targets(name)}
        except AwsCallFailed as exc:
            failures.append(f"where failed async invocations go is unknown: {exc}")
            facts = {}
        return ActionReport(tuple(failures), facts)

    def holds(self, name: str) -> bool:
        """True when the function's reserved concurrency is 0."""
        return self._functions.facts(name).reserved_concurrency == 0

    def put_back(self, name: str, prior: PriorState) -> None:
        """The prior reservation (or none), then enable exactly the mappings the throttle paused.

        A mapping deleted since is skipped; one that cannot be enabled raises AwsCallFailed after
        every other was tried, so the restore is retried (every step is idempotent).
        """
        function = FunctionPrior.of(prior)
        if function.reservation is None:
            self._functions.clear_reserved(name)
        else:
            self._functions.set_reserved(name, function.reservation)
        failed = []
        for mapping in function.paused:
            try:
                self._event_sources.set_enabled(mapping, True)
            except AwsCallFailed as exc:
                failed.append(f"{mapping.source_arn} ({mapping.uuid}): {exc}")
        if failed:
            raise AwsCallFailed(
                "EventSourceNotResumed", "; ".join(failed), operation="UpdateEventSourceMapping"
            )


@register
class DisableWorkgroup(TargetAction):
    """Disable an Athena workgroup (no new query starts in it); restore puts back its prior state.

    A workgroup that was already DISABLED is recorded so, and is left DISABLED by the restore.
    """

    kind = TargetKind.WORKGROUP
    permissions = ("athena:GetWorkGroup", "athena:UpdateWorkGroup")

    def __init__(self, workgroups: WorkgroupControl) -> None:
        self._workgroups = workgroups

    @classmethod
    def validate(cls, ref: str, scope: Scope) -> str:
        """A workgroup name: 1 to 128 letters, digits, `.`, `_` or `-` (names need no scope)."""
        name = ref.strip()
        if not _WORKGROUP_NAME.match(name):
            raise InvalidTargetRef(f"{ref!r} is not an Athena workgroup name")
        return name

    def read(self, name: str) -> TargetFacts:
        """The workgroup's state: ENABLED or DISABLED."""
        return TargetFacts(Target.workgroup(name), self._workgroups.state(name).value)

    def apply(self, name: str, prior: PriorState) -> ActionReport:
        """State DISABLED (queries already running carry on)."""
        self._workgroups.set_state(name, WorkgroupState.DISABLED)
        return ActionReport()

    def holds(self, name: str) -> bool:
        """True when the workgroup is DISABLED."""
        return self._workgroups.state(name) is WorkgroupState.DISABLED

    def put_back(self, name: str, prior: PriorState) -> None:
        """The prior state, ENABLED or DISABLED."""
        self._workgroups.set_state(name, WorkgroupState(str(prior)))
