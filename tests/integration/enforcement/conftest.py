"""Fixtures of the enforcement fault and race tests: fault hooks, findings, and the agreement check."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest

from guardrail.adapters.ledger import Ledger
from guardrail.domain import Finding, Status, Target
from guardrail.prior_state import FunctionPrior
from tests.integration.enforcement.faults import Faults


@pytest.fixture
def faults(deployed) -> Faults:
    """Fault hooks on the test's session (register before building the enforcer under test)."""
    return Faults(deployed.session)


@pytest.fixture
def ledger(deployed) -> Ledger:
    return Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session)


@pytest.fixture
def finding(deployed) -> Callable[..., Finding]:
    def make(name: str, detector: str = "athena-watch") -> Finding:
        target = Target.function(name)
        return Finding(target, detector, "412 queries in 5 minutes", deployed.clock(), {"queries": 412})

    return make


@pytest.fixture
def agree(deployed, ledger) -> Callable[..., None]:
    """Assert that the function, its ledger record and its audit trail tell the same story."""

    def check(name: str, *, held: bool, prior: int | None, context: str = "") -> None:
        target = Target.function(name)
        record = ledger.get(target)
        trail = [(e.action, e.result) for e in ledger.audit_trail(target)]
        story = f"{context}: record={record}, trail={trail}"
        assert record is not None, story
        assert FunctionPrior.of(record.prior).reservation == prior, story
        if held:
            assert record.status is Status.ENFORCED, story
            assert deployed.reservation(name) == 0, story
            assert trail.count(("throttle", "throttled")) == trail.count(("restore", "restored")) + 1, story
        else:
            assert record.status is Status.RESTORED, story
            assert deployed.reservation(name) == prior, story
            assert trail.count(("throttle", "throttled")) == trail.count(("restore", "restored")), story

    return check


@pytest.fixture
def world(request: pytest.FixtureRequest) -> SimpleNamespace:
    """Everything a fault or race test uses, as one fixture."""
    names = ("deployed", "make_function", "faults", "finding", "agree", "ledger")
    return SimpleNamespace(**{name: request.getfixturevalue(name) for name in names})
