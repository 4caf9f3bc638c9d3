"""Disabling and re-enabling an Athena workgroup through the one enforcement path.

The ledger and the alerts are moto's; Athena is faked at the adapter boundary with botocore's
Stubber (the `workgroups` fixture), because moto cannot update a workgroup's state.
"""

from __future__ import annotations

from guardrail.adapters.ledger import Ledger
from guardrail.domain import Finding, Result, Status, Target
from guardrail.prior_state import PriorState, WorkgroupPrior
from tests.conftest import ACCOUNT, REGION

PRIMARY = Target.workgroup("primary", ACCOUNT, REGION)  # the Enforcer places every target


def finding(deployed, key: str | None = None) -> Finding:
    return Finding(PRIMARY, "athena-watch", "alice: 12 queries in 5 min", deployed.clock(), {"q": 12}, key)


def state(prior: PriorState) -> str:
    """The state a workgroup's prior puts back."""
    return WorkgroupPrior.of(prior).state


def ledger(deployed) -> Ledger:
    return Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session)


def test_disable_and_restore_are_ledgered_audited_alerted_and_exact(deployed, workgroups):
    workgroups.expect_disable("primary", prior="ENABLED")
    workgroups.expect_restore("primary", "ENABLED")
    enforcer = deployed.enforcer()

    disabled = enforcer.enforce(finding(deployed))
    assert (disabled.result, state(disabled.prior)) == (Result.DISABLED, "ENABLED")
    assert disabled.to_dict() == {
        "workgroup": "primary",
        "account": ACCOUNT,
        "region": REGION,
        "result": "disabled",
        "prior_state": "ENABLED",
        "alert_sent": True,
    }
    [held] = enforcer.active()
    assert (held.target, held.status, state(held.prior)) == (PRIMARY, Status.ENFORCED, "ENABLED")

    deployed.clock.advance(minutes=3)
    restored = enforcer.restore(PRIMARY)
    assert (restored.result, state(restored.prior)) == (Result.RESTORED, "ENABLED")
    assert enforcer.active() == []
    trail = [(e.action, e.result) for e in ledger(deployed).audit_trail(PRIMARY)]
    assert trail == [("disable", "disabled"), ("restore", "restored")]
    documents = [a["Document"] for a in deployed.alerts()]
    assert [(d["event_type"], d["workgroup"], d["prior_state"]) for d in documents] == [
        ("disabled", "primary", "ENABLED"),
        ("restored", "primary", "ENABLED"),
    ]
    assert documents[0]["undo"]["payload"] == {"action": "restore", "workgroups": ["primary"]}


def test_a_workgroup_disabled_before_is_recorded_so_and_left_disabled(deployed, workgroups):
    workgroups.expect_disable("primary", prior="DISABLED")
    workgroups.expect_restore("primary", "DISABLED")
    enforcer = deployed.enforcer()

    assert state(enforcer.enforce(finding(deployed)).prior) == "DISABLED"
    assert state(ledger(deployed).get(PRIMARY).prior) == "DISABLED"
    restored = enforcer.restore(PRIMARY)

    assert (restored.result, state(restored.prior)) == (Result.RESTORED, "DISABLED")


def test_a_second_finding_or_delivery_never_acts_twice(deployed, workgroups):
    workgroups.expect_disable("primary")
    enforcer = deployed.enforcer()

    first = enforcer.enforce(finding(deployed, key="event-1"))
    redelivered = enforcer.enforce(finding(deployed, key="event-1"))  # no call at all
    workgroups.expect_read("primary", "DISABLED")  # a new signal reads the state, then loses the claim
    again = enforcer.enforce(finding(deployed, key="event-2"))

    assert [first.result, redelivered.result, again.result] == [
        Result.DISABLED,
        Result.DUPLICATE,
        Result.ALREADY_DISABLED,
    ]
    assert state(again.prior) == "ENABLED"  # the first record stands
    assert len(deployed.alerts()) == 1


def test_notify_only_flags_the_workgroup_and_leaves_it_enabled(deployed, workgroups):
    workgroups.expect_read("primary", "ENABLED")
    enforcer = deployed.enforcer(notify_only=True)

    outcome = enforcer.enforce(finding(deployed))

    assert (outcome.result, outcome.detail) == (Result.WOULD_DISABLE, "notify-only")
    assert enforcer.restore(PRIMARY).result is Result.CLEARED
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["would-disable", "cleared"]


def test_unknown_workgroup_is_reported_and_nothing_is_recorded(deployed, workgroups):
    workgroups.expect_missing("ghost")
    workgroups.expect_missing("ghost")
    enforcer = deployed.enforcer()
    ghost = Target.workgroup("ghost")

    disabled = enforcer.enforce(Finding(ghost, "kill-switch", "r", deployed.clock()))
    restored = enforcer.restore(ghost)

    assert (disabled.result, restored.result) == (Result.NOT_FOUND, Result.NOT_FOUND)
    assert ledger(deployed).get(ghost) is None
    assert [e.result for e in ledger(deployed).audit_trail(ghost)] == ["not-found"]
    assert deployed.alerts() == []


def test_failed_disable_releases_the_claim_and_alerts_the_failure(deployed, workgroups):
    workgroups.expect_read("primary", "ENABLED")
    workgroups.expect_failure("update_work_group")
    workgroups.expect_restore("primary", "ENABLED")  # the roll-back: the failed call may have landed
    enforcer = deployed.enforcer()

    outcome = enforcer.enforce(finding(deployed, key="event-1"))

    assert outcome.result is Result.ERROR
    assert "workgroup left as it was: InternalServerException" in outcome.error
    assert ledger(deployed).get(PRIMARY) is None
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "disable-failed"
    workgroups.expect_disable("primary")
    assert enforcer.enforce(finding(deployed, key="event-1")).result is Result.DISABLED  # retried


def test_failed_restore_keeps_the_record_and_a_deleted_workgroup_closes_it(deployed, workgroups):
    workgroups.expect_disable("primary")
    workgroups.expect_read("primary", "DISABLED")
    workgroups.expect_failure("update_work_group")
    workgroups.expect_read("primary", "DISABLED")
    workgroups.expect_missing("primary", "update_work_group")
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed))

    failed = enforcer.restore(PRIMARY)
    assert failed.result is Result.ERROR
    assert "still disabled" in failed.error
    assert ledger(deployed).get(PRIMARY).status is Status.ENFORCED
    assert [r.target for r in enforcer.active()] == [PRIMARY]

    assert enforcer.restore(PRIMARY).result is Result.NOT_FOUND
    assert enforcer.active() == []
    kinds = [a["Document"]["event_type"] for a in deployed.alerts()]
    assert kinds == ["disabled", "restore-failed"]


def test_a_held_workgroup_found_enabled_is_disabled_again_with_its_prior_state_kept(deployed, workgroups):
    workgroups.expect_disable("primary", prior="ENABLED")
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed))
    workgroups.expect_read("primary", "ENABLED")  # someone enabled it again
    workgroups.expect_set("primary", "DISABLED")

    drift = enforcer.enforce(finding(deployed))

    assert (drift.result, state(drift.prior)) == (Result.DRIFT, "ENABLED")
    assert ledger(deployed).get(PRIMARY).status is Status.ENFORCED
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["disabled", "drift"]
    workgroups.expect_read("primary", "DISABLED")
    assert enforcer.enforce(finding(deployed)).result is Result.ALREADY_DISABLED


def test_a_restore_leaves_a_workgroup_whose_configuration_changed_while_disabled_and_says_so(
    deployed, workgroups
):
    workgroups.expect_read("primary", "ENABLED", {"BytesScannedCutoffPerQuery": 10_000_000_000})
    workgroups.expect_set("primary", "DISABLED")
    # while it was disabled, someone lifted its per-query cutoff
    workgroups.expect_read("primary", "DISABLED", {"EnforceWorkGroupConfiguration": False})
    enforcer = deployed.enforcer()
    enforcer.enforce(finding(deployed))
    deployed.clock.advance(minutes=3)

    restored = enforcer.restore(PRIMARY)

    assert (restored.result, restored.to_dict()["prior_state"]) == (Result.LEFT_AS_IS, "ENABLED")
    assert "configuration changed while it was disabled: left DISABLED" in restored.detail
    assert enforcer.active() == []  # let go: an operator checks it and enables it by hand
    trail = [(e.action, e.result) for e in ledger(deployed).audit_trail(PRIMARY)]
    assert trail == [("disable", "disabled"), ("restore", "left-as-is")]
    documents = [a["Document"] for a in deployed.alerts()]
    assert [d["event_type"] for d in documents] == ["disabled", "left-as-is"]
    assert "configuration changed" in documents[1]["error"]
