"""The changes the guardrail makes to the account: one small class per kind of target.

Shaped after Cloud Custodian's actions: a docstring, `validate()` that rejects a bad name before
anything runs, and the steps the Enforcer drives: `read` the state to put back, `apply`, `holds` (is
it still applied?), `put_back`, each given the target (its account and region say where it is). They
call AWS through a port only, the one for the target's place; the IAM permissions are those its
adapters declare (`PERMISSIONS`), which the stacks grant. A new kind of action is one more class
here, registered with `@register`, plus its adapter and the kind's words in `guardrail.domain`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar, TypeVar

from guardrail.domain import Target, TargetFacts, TargetKind, WorkgroupState
from guardrail.enforcement.ports import EventSourceControl, FunctionControl, WorkgroupControl
from guardrail.errors import AwsCallFailed, InvalidTargetRef
from guardrail.prior_state import FEEDING_STATES, ActionReport, FunctionPrior, PriorState, WorkgroupPrior
from guardrail.scope import Scope, function_place

_WORKGROUP_NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_WORKGROUP_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:athena:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):workgroup/(?P<name>[A-Za-z0-9._-]{1,128})"
)


class TargetAction(ABC):
    """One kind of change to the account, and how it is undone exactly."""

    kind: ClassVar[TargetKind]

    @classmethod
    @abstractmethod
    def validate(cls, ref: str, scope: Scope, *, account: str, region: str) -> Target:
        """The target in `scope` that `ref` refers to; raises InvalidTargetRef.

        A reference that does not say where the target is means `account` and `region`.
        """

    @abstractmethod
    def read(self, target: Target) -> TargetFacts:
        """The target's state that `put_back` restores, and its tags; raises TargetNotFound."""

    @abstractmethod
    def apply(self, target: Target, prior: PriorState) -> ActionReport:
        """Stop the target, given what `read` recorded (raises TargetNotFound or AwsCallFailed).

        What could not be done beside the main change, which stands, is in the report.
        """

    @abstractmethod
    def holds(self, target: Target) -> bool:
        """True when the target is stopped as `apply` left it (reconciliation reads this)."""

    @abstractmethod
    def put_back(self, target: Target, prior: PriorState) -> ActionReport:
        """Put back exactly the state `read` found before the first action.

        What was left as it is (changed by someone else meanwhile) is in the report, never raised.
        """


#: Every kind of action, by the kind of target it acts on.
ACTIONS: dict[TargetKind, type[TargetAction]] = {}
_Action = TypeVar("_Action", bound=type[TargetAction])


def register(action: _Action) -> _Action:
    """Class decorator: make an action known to the kill switch's requests (their targets' kinds)."""
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

    def __init__(
        self,
        functions: Callable[[Target], FunctionControl],
        event_sources: Callable[[Target], EventSourceControl],
    ) -> None:
        self._functions = functions
        self._event_sources = event_sources

    @classmethod
    def validate(cls, ref: str, scope: Scope, *, account: str, region: str) -> Target:
        """A function, from a name or a full or partial ARN of a function in `scope`."""
        name, named_account, named_region = function_place(ref, scope)
        return Target.function(name, named_account or account, named_region or region)

    def read(self, target: Target) -> TargetFacts:
        """Its reservation (None: unreserved) and the mappings feeding it; its tags, role and layers."""
        facts = self._functions(target).facts(target.name)
        try:
            mappings = self._event_sources(target).mappings(facts.name)
        except AwsCallFailed as exc:  # the throttle must not wait for this: reported by `apply`
            prior = FunctionPrior(facts.reserved_concurrency, unlisted=str(exc))
        else:
            feeding = tuple(m for m in mappings if m.state in FEEDING_STATES)
            prior = FunctionPrior(facts.reserved_concurrency, feeding)
        return TargetFacts(
            replace(target, name=facts.name), prior.value(), facts.tags, facts.role_arn, facts.layers
        )

    def apply(self, target: Target, prior: PriorState) -> ActionReport:
        """Reserved concurrency 0 (no new invocation starts), then pause the recorded mappings.

        A mapping that cannot be paused is reported, not raised: the throttle stands.
        """
        name, sources = target.name, self._event_sources(target)
        self._functions(target).set_reserved(name, 0)
        function = FunctionPrior.of(prior)
        failures = (
            [f"event sources not listed, none paused: {function.unlisted}"] if function.unlisted else []
        )
        for mapping in function.paused:
            try:
                sources.set_enabled(mapping, False)
            except AwsCallFailed as exc:
                failures.append(f"event source {mapping.source_arn} ({mapping.uuid}) not paused: {exc}")
        try:
            facts = {"async_failure_targets": sources.async_failure_targets(name)}
        except AwsCallFailed as exc:
            failures.append(f"where failed async invocations go is unknown: {exc}")
            facts = {}
        return ActionReport(tuple(failures), facts)

    def holds(self, target: Target) -> bool:
        """True when the function's reserved concurrency is 0."""
        return self._functions(target).facts(target.name).reserved_concurrency == 0

    def put_back(self, target: Target, prior: PriorState) -> ActionReport:
        """The prior reservation (or none), then enable the mappings the throttle paused, if still its.

        A mapping is enabled only while it still feeds this function from the same source: one
        repointed meanwhile (to another function, or from another source) is left as it is and
        reported, as is one deleted since. One that cannot be checked or enabled raises
        AwsCallFailed after every other was tried, so the restore is retried (every step is idempotent).
        """
        function, control = FunctionPrior.of(prior), self._functions(target)
        if function.reservation is None:
            control.clear_reserved(target.name)
        else:
            control.set_reserved(target.name, function.reservation)
        sources, failed, left, uuids = self._event_sources(target), [], [], []
        for mapping in function.paused:
            try:
                now = sources.feeds(mapping)
                if now is None:
                    left.append(f"event source mapping {mapping.uuid} was deleted meanwhile")
                    uuids.append(mapping.uuid)
                elif now != (target.name, mapping.source_arn):
                    uuids.append(mapping.uuid)
                    left.append(
                        f"event source mapping {mapping.uuid} now feeds {now[0]} from {now[1]}"
                        f" (it fed {target.name} from {mapping.source_arn}): left as it is"
                    )
                else:
                    sources.set_enabled(mapping, True)
            except AwsCallFailed as exc:
                failed.append(f"{mapping.source_arn} ({mapping.uuid}): {exc}")
        if failed:
            raise AwsCallFailed(
                "EventSourceNotResumed", "; ".join(failed), operation="UpdateEventSourceMapping"
            )
        return ActionReport(tuple(left), {"left_as_is": uuids} if uuids else {})


@register
class DisableWorkgroup(TargetAction):
    """Disable an Athena workgroup (no new query starts in it); restore puts back its prior state.

    A workgroup that was already DISABLED is recorded so, and is left DISABLED by the restore.
    """

    kind = TargetKind.WORKGROUP

    def __init__(self, workgroups: Callable[[Target], WorkgroupControl]) -> None:
        self._workgroups = workgroups

    @classmethod
    def validate(cls, ref: str, scope: Scope, *, account: str, region: str) -> Target:
        """A workgroup, by name (1 to 128 letters, digits, `.`, `_` or `-`) or ARN in `scope`."""
        text = ref.strip()
        match = _WORKGROUP_ARN.fullmatch(text)
        if match:
            text, account, region = match.group("name"), match.group("account"), match.group("region")
            if not scope.admits(account=account, region=region):
                where = f"account {account}, region {region}"
                raise InvalidTargetRef(f"{ref!r} is a workgroup of {where}; this guardrail acts in {scope}")
        if not _WORKGROUP_NAME.match(text):
            raise InvalidTargetRef(f"{ref!r} is not an Athena workgroup name")
        return Target.workgroup(text, account, region)

    def read(self, target: Target) -> TargetFacts:
        """The workgroup's state (ENABLED or DISABLED) and its configuration's fingerprint."""
        state, configuration = self._workgroups(target).view(target.name)
        return TargetFacts(target, WorkgroupPrior(state.value, configuration).value())

    def apply(self, target: Target, prior: PriorState) -> ActionReport:
        """State DISABLED (queries already running carry on)."""
        self._workgroups(target).set_state(target.name, WorkgroupState.DISABLED)
        return ActionReport()

    def holds(self, target: Target) -> bool:
        """True when the workgroup is DISABLED."""
        return self._workgroups(target).state(target.name) is WorkgroupState.DISABLED

    def put_back(self, target: Target, prior: PriorState) -> ActionReport:
        """The prior state, ENABLED or DISABLED, unless its configuration changed while it was disabled.

        A workgroup whose configuration is not what it was when disabled (someone changed it meanwhile)
        is left as it is, and reported: enabling it would start queries under settings nobody
        checked. A record without a fingerprint (written before) is put back without the check.
        """
        workgroup, control = WorkgroupPrior.of(prior), self._workgroups(target)
        if workgroup.configuration:
            state, configuration = control.view(target.name)
            if configuration != workgroup.configuration:
                left = (
                    f"workgroup {target.name}'s configuration changed while it was disabled: left"
                    f" {state.value}; put it back by hand once checked"
                )
                return ActionReport((left,), kept=True)
        control.set_state(target.name, WorkgroupState(workgroup.state))
        return ActionReport()
