"""An Enforcer on the in-memory ports (`devtools.memory_ports`): the record's lifecycle without AWS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devtools.memory_ports import (
    MemoryEventSources,
    MemoryFunctions,
    MemoryLedger,
    MemoryTopic,
    MemoryWorkgroups,
)
from guardrail.config.fleet import MemberAccount
from guardrail.domain import Finding, Target
from guardrail.enforcement import DisableWorkgroup, Enforcer, Exemptions, ThrottleFunction
from guardrail.scope import Scope
from tests.conftest import Clock

ACCOUNT, REGION = "111111111111", "us-east-1"
MEMBER, OTHER_MEMBER = "222222222222", "333333333333"
HOME = Scope(ACCOUNT, REGION, organization=True)


@dataclass
class Memory:
    """The in-memory ledger, functions and workgroups (one set per account) and topic, and a clock."""

    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    functions: dict[str, MemoryFunctions] = field(default_factory=dict)
    workgroups: dict[str, MemoryWorkgroups] = field(default_factory=dict)
    topic: MemoryTopic = field(default_factory=MemoryTopic)
    clock: Clock = field(default_factory=Clock)
    notify_only_accounts: set[str] = field(default_factory=set)

    def place(self, account: str = ACCOUNT) -> MemoryFunctions:
        """The functions of one account (created on first use)."""
        return self.functions.setdefault(account, MemoryFunctions())

    def function(self, name: str, reserved: int | None = None, account: str = ACCOUNT) -> Target:
        """Create a function; its target, placed."""
        self.place(account).add(name, reserved)
        return Target.function(name, account, REGION)

    def athena(self, account: str = ACCOUNT) -> MemoryWorkgroups:
        """The workgroups of one account (created on first use)."""
        return self.workgroups.setdefault(account, MemoryWorkgroups())

    def workgroup(self, name: str, account: str = ACCOUNT) -> Target:
        """Create an enabled workgroup; its target, placed."""
        self.athena(account).add(name)
        return Target.workgroup(name, account, REGION)

    def reservation(self, target: Target) -> int | None:
        """A function's reserved concurrency."""
        return self.place(target.account).reserved[target.name]

    def enforcer(self, **options: Any) -> Enforcer:
        """An Enforcer as the composition root builds one, on these ports."""
        members: Callable[[str], MemberAccount] = lambda account: MemberAccount(  # noqa: E731
            notify_only=account in self.notify_only_accounts
        )
        return Enforcer(
            actions=[
                ThrottleFunction(
                    lambda target: self.place(target.account),
                    lambda target: MemoryEventSources(self.place(target.account)),
                ),
                DisableWorkgroup(lambda target: self.athena(target.account)),
            ],
            ledger=self.ledger,
            alerts=self.topic,
            exemptions=options.pop("exemptions", Exemptions()),
            notify_only=options.pop("notify_only", False),
            home=HOME,
            kill_switch_function="runaway-guardrail-kill-switch",
            members=members,
            clock=self.clock,
            pauses=options.pop("pauses", self.ledger),
            **options,
        )

    def finding(self, target: Target, detector: str = "athena-watch", reason: str = "412 queries") -> Finding:
        """A finding about `target`, observed now."""
        return Finding(target, detector, reason, self.clock(), {"queries": 412})


@pytest.fixture
def memory() -> Memory:
    """Fresh in-memory ports."""
    return Memory()
