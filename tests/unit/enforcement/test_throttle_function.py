"""ThrottleFunction with fake ports: which mappings it records, pauses and resumes; the prior's shapes."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

import pytest

from guardrail.domain import FunctionFacts, Target, TargetKind, prior_fields
from guardrail.enforcement.actions import ThrottleFunction
from guardrail.errors import AwsCallFailed
from guardrail.prior_state import EventSourceMapping, FunctionPrior

F = Target.function("f", "123456789012", "us-east-1")


def _action(functions: object, sources: object) -> ThrottleFunction:
    """The action over one place's fakes, wherever a target is."""
    return ThrottleFunction(lambda _target: functions, lambda _target: sources)  # type: ignore[arg-type,return-value]


ARN = "arn:aws:sqs:us-east-1:123456789012:"


class FakeFunctions:
    def __init__(self, reserved: int | None) -> None:
        self.reserved = reserved

    def facts(self, name: str) -> FunctionFacts:
        return FunctionFacts(name, self.reserved)

    def set_reserved(self, name: str, value: int) -> None:
        self.reserved = value

    def clear_reserved(self, name: str) -> None:
        self.reserved = None

    def function_names(self) -> list[str]:
        return []


class FakeSources:
    def __init__(self, *mappings: EventSourceMapping, refuse: str = "", unlisted: bool = False) -> None:
        self.mappings_ = list(mappings)
        self.calls: list[tuple[str, bool]] = []
        self.refuse = refuse
        self.unlisted = unlisted
        self.now: dict[str, tuple[str, str] | None] = {}  # uuid -> what it feeds now (default: f, as read)

    def feeds(self, mapping: EventSourceMapping) -> tuple[str, str] | None:
        return self.now.get(mapping.uuid, ("f", mapping.source_arn))

    def mappings(self, function: str) -> list[EventSourceMapping]:
        if self.unlisted:
            raise AwsCallFailed("AccessDeniedException", "no lambda:ListEventSourceMappings")
        return self.mappings_

    def set_enabled(self, mapping: EventSourceMapping, enabled: bool) -> bool:
        if mapping.uuid == self.refuse:
            raise AwsCallFailed("ResourceInUseException", "busy")
        self.calls.append((mapping.uuid, enabled))
        return True

    def async_failure_targets(self, function: str) -> dict[str, str]:
        return {}


def test_read_records_the_mappings_that_feed_or_may_soon_feed_the_function():
    states = ["Enabled", "Enabling", "Creating", "Updating", "Disabled", "Disabling", "Deleting"]
    sources = FakeSources(*(EventSourceMapping(state.lower(), ARN + state, state) for state in states))

    prior = FunctionPrior.of(_action(FakeFunctions(4), sources).read(F).prior)

    assert prior.reservation == 4
    assert [m.uuid for m in prior.paused] == ["enabled", "enabling", "creating", "updating"]


def test_apply_pauses_the_recorded_mappings_and_reports_those_it_could_not():
    functions, sources = FakeFunctions(4), FakeSources(refuse="b")
    action = _action(functions, sources)
    prior = FunctionPrior(4, (EventSourceMapping("a", ARN + "a"), EventSourceMapping("b", ARN + "b"))).value()

    report = action.apply(F, prior)

    assert functions.reserved == 0
    assert sources.calls == [("a", False)]
    assert report.failures == (f"event source {ARN}b (b) not paused: ResourceInUseException: busy",)
    assert report.facts == {"async_failure_targets": {}}


def test_mappings_that_cannot_be_listed_do_not_stop_the_throttle_and_are_reported():
    functions, sources = FakeFunctions(4), FakeSources(unlisted=True)
    action = _action(functions, sources)

    prior = action.read(F).prior
    report = action.apply(F, prior)

    assert FunctionPrior.of(prior) == FunctionPrior(
        4, unlisted="AccessDeniedException: no lambda:ListEventSourceMappings"
    )
    assert functions.reserved == 0
    assert report.failures[0] == (
        "event sources not listed, none paused: AccessDeniedException: no lambda:ListEventSourceMappings"
    )
    action.put_back(F, prior)
    assert (functions.reserved, sources.calls) == (4, [])


def test_put_back_resumes_every_recorded_mapping_and_raises_when_one_stays_paused():
    functions, sources = FakeFunctions(0), FakeSources(refuse="b")
    prior = FunctionPrior(None, (EventSourceMapping("a", ARN + "a"), EventSourceMapping("b", ARN + "b")))

    with pytest.raises(AwsCallFailed, match=r"EventSourceNotResumed: arn:.*:b \(b\): ResourceInUseException"):
        _action(functions, sources).put_back(F, prior.value())

    assert functions.reserved is None  # the reservation first: a retried restore repeats every step
    assert sources.calls == [("a", True)]


def test_put_back_leaves_a_mapping_repointed_or_deleted_meanwhile_as_it_is_and_says_so():
    functions, sources = FakeFunctions(0), FakeSources()
    sources.now = {"b": ("g", ARN + "b"), "c": ("f", ARN + "other"), "d": None}
    paused = tuple(EventSourceMapping(uuid, ARN + uuid) for uuid in "abcd")

    report = _action(functions, sources).put_back(F, FunctionPrior(3, paused).value())

    assert functions.reserved == 3
    assert sources.calls == [("a", True)]
    assert report.failures == (
        f"event source mapping b now feeds g from {ARN}b (it fed f from {ARN}b): left as it is",
        f"event source mapping c now feeds f from {ARN}other (it fed f from {ARN}c): left as it is",
        "event source mapping d was deleted meanwhile",
    )


@pytest.mark.parametrize("stored", [7, Decimal(7), None, 0])
def test_a_bare_reservation_is_a_prior_with_nothing_paused(stored):
    prior = FunctionPrior.of(stored)
    assert prior == FunctionPrior(None if stored is None else int(stored))
    assert prior.value() == stored  # what every record written before pausing holds


def test_the_prior_survives_the_ledger_round_trip():
    paused = (EventSourceMapping("a", ARN + "a", "Enabling"),)
    stored = {"reservation": Decimal(3), "paused": [asdict(m) for m in paused]}  # as DynamoDB returns it

    assert FunctionPrior.of(stored) == FunctionPrior(3, paused)
    assert prior_fields(TargetKind.FUNCTION, stored) == {
        "prior_reservation": 3,
        "paused_event_sources": [{"uuid": "a", "source_arn": ARN + "a", "state": "Enabling"}],
    }
    assert prior_fields(TargetKind.FUNCTION, None) == {"prior_reservation": None}
