"""A finding's fallback, followed by the Enforcer on the in-memory ports: when it takes over, and when not.

The chain is the Athena watch's (a caller's function, then its workgroup, then a notice); which step
acts is the Enforcer's to decide from each step's end, never the detector's.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from devtools.memory_ports import MemoryTopic
from guardrail.account_pause import AccountPause
from guardrail.alerts.render import Alert
from guardrail.domain import (
    Expectation,
    Fallback,
    Finding,
    Notice,
    Result,
    Target,
    TargetKind,
    WorkgroupState,
)
from guardrail.enforcement import Exemptions
from guardrail.errors import AwsCallFailed
from guardrail.scope import TAG_EXEMPT
from tests.conftest import Clock
from tests.unit.enforcement.conftest import ACCOUNT, REGION, Memory

CALLER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/nightly-batch-role"
NOTICE_KEY = "athena-watch:notice:query-rate:nightly-batch:2026-11-28T02"
PAUSE = AccountPause(ACCOUNT, "alice", Clock()(), "drill", "p-1")


class Pauses(dict[str, AccountPause]):
    """Operators' pauses by account, as the ledger answers them."""

    def account_pause(self, account: str) -> AccountPause | None:
        return self.get(account)


def marked(memory: Memory, key: str) -> bool:
    """True when a live mark of the signal stands (asked as the Enforcer asks: by claiming it)."""
    return not memory.ledger.claim_signal(key, now=memory.clock(), ttl_seconds=60)


def told(memory: Memory) -> Notice:
    """The notice the chain ends in."""
    return Notice(
        "AssumedRole nightly-batch",
        "athena-watch",
        "412 queries",
        memory.clock(),
        dedupe_key=NOTICE_KEY,
        account=ACCOUNT,
        region=REGION,
    )


def chain(
    memory: Memory,
    function: Target,
    workgroup: Target | None,
    *,
    expect: Expectation | None = None,
    event: str = "event-1",
) -> Finding:
    """Throttle `function`, else disable `workgroup` (if any), else tell: as the Athena watch asks."""
    step: Finding | Notice = told(memory)
    if workgroup is not None:
        disable = replace(memory.finding(workgroup), dedupe_key=f"{event}:workgroup")
        step = replace(disable, fallback=Fallback(step, if_exempt=True))
    throttle = replace(memory.finding(function), dedupe_key=event, expect=expect or Expectation())
    return replace(throttle, fallback=Fallback(step))


def state(memory: Memory, workgroup: Target) -> WorkgroupState:
    return memory.athena(workgroup.account).states[workgroup.name]


def test_a_finding_that_acts_never_reaches_its_fallback(memory):
    function, workgroup = memory.function("nightly-batch", reserved=5), memory.workgroup("primary")

    outcome = memory.enforcer().enforce(chain(memory, function, workgroup))

    assert (outcome.target, outcome.result) == (function, Result.THROTTLED)
    assert (memory.reservation(function), state(memory, workgroup)) == (0, WorkgroupState.ENABLED)
    assert memory.topic.event_types() == ["throttled"]


def test_a_function_that_is_not_there_falls_back_to_disabling_its_workgroup(memory):
    ghost, workgroup = Target.function("nightly-batch", ACCOUNT, REGION), memory.workgroup("primary")

    outcome = memory.enforcer().enforce(chain(memory, ghost, workgroup))

    assert (outcome.target, outcome.result) == (workgroup, Result.DISABLED)
    assert state(memory, workgroup) is WorkgroupState.DISABLED
    assert memory.topic.event_types() == ["disabled"]
    assert [e.result for e in memory.ledger.audit_trail(ghost)] == ["not-found"]
    assert memory.ledger.get(ghost) is None


def test_a_function_that_is_not_the_caller_is_alerted_unverified_and_its_workgroup_disabled(memory):
    function, workgroup = memory.function("nightly-batch", reserved=5), memory.workgroup("primary")

    outcome = memory.enforcer().enforce(
        chain(memory, function, workgroup, expect=Expectation(role_arn=CALLER_ROLE))
    )

    assert (outcome.target, outcome.result) == (workgroup, Result.DISABLED)
    assert memory.reservation(function) == 5
    assert memory.topic.event_types() == ["unverified", "disabled"]


@pytest.mark.parametrize("workgroup_there", [False, True], ids=["no-workgroup-to-disable", "workgroup-gone"])
def test_an_unverified_alert_is_the_notice_when_nothing_else_acts(memory, workgroup_there):
    function = memory.function("nightly-batch", reserved=5)
    gone = Target.workgroup("primary", ACCOUNT, REGION) if workgroup_there else None

    outcome = memory.enforcer().enforce(
        chain(memory, function, gone, expect=Expectation(role_arn=CALLER_ROLE))
    )

    assert (outcome.target, outcome.result, outcome.alert_sent) == (function, Result.UNVERIFIED, True)
    assert memory.topic.event_types() == ["unverified"]  # the notice is not sent besides
    assert not marked(memory, NOTICE_KEY)


def test_with_nothing_to_act_on_the_chain_ends_in_its_notice_once_an_hour(memory):
    ghost, gone = (
        Target.function("nightly-batch", ACCOUNT, REGION),
        Target.workgroup("primary", ACCOUNT, REGION),
    )
    enforcer = memory.enforcer()

    first = enforcer.enforce(chain(memory, ghost, gone))
    again = enforcer.enforce(chain(memory, ghost, gone, event="event-2"))

    assert (first.target, first.result, first.error) == (gone, Result.ALERTED, None)
    assert again.result is Result.ALREADY_ALERTED
    assert memory.topic.event_types() == ["alerted"]
    assert memory.topic.sent[0].document["subject"] == "AssumedRole nightly-batch"


def test_an_exempt_function_ends_the_chain_but_an_exempt_workgroup_is_told_about(memory):
    exempt = memory.function("nightly-batch", reserved=5)
    memory.place().tags["nightly-batch"] = {TAG_EXEMPT: "true"}
    workgroup = memory.workgroup("primary")
    ghost = Target.function("other-batch", ACCOUNT, REGION)
    enforcer = memory.enforcer(exemptions=Exemptions(names={TargetKind.WORKGROUP: frozenset({"primary"})}))

    left_alone = enforcer.enforce(chain(memory, exempt, workgroup))
    told_instead = enforcer.enforce(chain(memory, ghost, workgroup, event="event-2"))
    without_if_exempt = replace(memory.finding(workgroup), fallback=Fallback(told(memory)))
    exempt_workgroup = enforcer.enforce(without_if_exempt)

    assert (left_alone.result, left_alone.detail) == (Result.EXEMPT, "exempt-by-tag")
    assert (told_instead.target, told_instead.result) == (workgroup, Result.ALERTED)
    assert exempt_workgroup.result is Result.EXEMPT  # its fallback does not cover an exempt target
    assert (memory.reservation(exempt), state(memory, workgroup)) == (5, WorkgroupState.ENABLED)
    assert memory.topic.event_types() == ["alerted"]


def test_notify_only_flags_the_function_and_its_fallback_is_not_taken(memory):
    function, workgroup = memory.function("nightly-batch", reserved=5), memory.workgroup("primary")

    outcome = memory.enforcer(notify_only=True).enforce(chain(memory, function, workgroup))

    assert (outcome.target, outcome.result) == (function, Result.WOULD_THROTTLE)
    assert (memory.reservation(function), state(memory, workgroup)) == (5, WorkgroupState.ENABLED)
    assert memory.topic.event_types() == ["would-throttle"]


def test_a_paused_account_holds_the_function_back_and_its_fallback_is_not_taken(memory):
    function, workgroup = memory.function("nightly-batch", reserved=5), memory.workgroup("primary")
    outcome = memory.enforcer(pauses=Pauses({ACCOUNT: PAUSE})).enforce(chain(memory, function, workgroup))

    assert (outcome.target, outcome.result) == (function, Result.WOULD_THROTTLE)
    assert (memory.reservation(function), state(memory, workgroup)) == (5, WorkgroupState.ENABLED)
    assert memory.topic.event_types() == ["would-throttle"]
    assert memory.ledger.get(function) is None and memory.ledger.get(workgroup) is None


def test_a_second_delivery_is_a_duplicate_and_takes_no_fallback(memory):
    ghost, workgroup = Target.function("nightly-batch", ACCOUNT, REGION), memory.workgroup("primary")
    enforcer = memory.enforcer()
    enforcer.enforce(chain(memory, ghost, workgroup))
    memory.athena().states["primary"] = WorkgroupState.ENABLED  # someone enabled it again meanwhile

    again = enforcer.enforce(chain(memory, ghost, workgroup))

    assert (again.target, again.result) == (ghost, Result.DUPLICATE)
    assert state(memory, workgroup) is WorkgroupState.ENABLED
    assert memory.topic.event_types() == ["disabled"]


class DownTopic(MemoryTopic):
    """A topic that refuses every alert."""

    def publish(self, alert: Alert) -> str:
        raise AwsCallFailed("InternalError", "SNS is down", operation="Publish")


def test_a_notice_not_sent_is_an_error_and_gives_its_key_back(memory):
    memory.topic = DownTopic()
    ghost = Target.function("nightly-batch", ACCOUNT, REGION)

    outcome = memory.enforcer().enforce(chain(memory, ghost, None))

    assert (outcome.result, outcome.error) == (Result.ERROR, "the notice was not sent")
    assert not marked(memory, NOTICE_KEY)
    assert not marked(memory, "event-1")  # the whole chain is given back: the retry must reach the notice


def test_lambdas_retry_of_a_chain_whose_notice_failed_sends_the_notice(memory):
    memory.topic = DownTopic()
    ghost = Target.function("nightly-batch", ACCOUNT, REGION)
    assert memory.enforcer().enforce(chain(memory, ghost, None)).result is Result.ERROR
    memory.topic = MemoryTopic()

    retried = memory.enforcer().enforce(chain(memory, ghost, None))  # the retry, in a container of its own

    assert retried.result is Result.ALERTED
    assert memory.topic.event_types() == ["alerted"]


def test_lambdas_retry_of_a_chain_whose_workgroup_step_failed_disables_the_workgroup(memory, monkeypatch):
    # the function is not there (its step ends, not-found), then disabling the workgroup fails: the
    # event raises for Lambda's retry, which must not find the function's step a duplicate and stop
    ghost, workgroup = Target.function("nightly-batch", ACCOUNT, REGION), memory.workgroup("primary")
    athena, enforcer = memory.athena(), memory.enforcer()
    set_state = athena.set_state

    def down(name: str, state: WorkgroupState) -> None:
        raise AwsCallFailed("InternalError", "Athena is down", operation="UpdateWorkGroup")

    monkeypatch.setattr(athena, "set_state", down)
    assert enforcer.enforce(chain(memory, ghost, workgroup)).result is Result.ERROR
    monkeypatch.setattr(athena, "set_state", set_state)

    retried = enforcer.enforce(chain(memory, ghost, workgroup))

    assert (retried.target, retried.result) == (workgroup, Result.DISABLED)
    assert state(memory, workgroup) is WorkgroupState.DISABLED


def test_a_warm_enforcer_reads_the_pause_afresh_for_each_request(memory):
    pauses = Pauses({ACCOUNT: PAUSE})
    enforcer = memory.enforcer(pauses=pauses)
    first, second = memory.function("first", reserved=5), memory.function("second", reserved=5)
    held = enforcer.enforce(memory.finding(first))

    del pauses[ACCOUNT]  # resumed: the next request acts at once
    acted = enforcer.enforce(memory.finding(second))

    assert (held.result, acted.result) == (Result.WOULD_THROTTLE, Result.THROTTLED)
    assert (memory.reservation(first), memory.reservation(second)) == (5, 0)
