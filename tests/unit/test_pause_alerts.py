"""The alerts of a pause, a resume, and a finding held back in a paused account."""

from __future__ import annotations

from datetime import UTC, datetime

from guardrail.account_pause import AccountPause
from guardrail.alerts import AlertEvent, Phase, render
from guardrail.alerts.pause_alert import render_pause
from guardrail.domain import Target
from guardrail.scope import Scope

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
HOME = Scope("111111111111", "ap-northeast-1", organization=True)
PAUSE = AccountPause("222222222222", "alice", NOW, "migration drill", "p-1")
AT = "--region ap-northeast-1 --function-name runaway-guardrail-kill-switch"


def test_a_pause_alert_says_who_why_and_how_to_resume():
    alert = render_pause(Phase.ACCOUNT_PAUSED, PAUSE, NOW, "alice", HOME, "runaway-guardrail-kill-switch")

    assert alert.document["event_type"] == "account-paused"
    assert alert.document["account_paused"] == PAUSE.to_dict()
    assert alert.document["undo"]["payload"] == {"action": "resume", "account": "222222222222"}
    assert f"guardrail {AT} resume --account 222222222222" in alert.text
    assert '"action":"resume","account":"222222222222"' in alert.text  # the aws CLI's payload
    assert "PAUSED automatic enforcement in account 222222222222" in alert.subject
    assert alert.attributes == {
        "event_type": "account-paused",
        "account": "222222222222",
        "detector": "kill-switch",
    }


def test_a_resume_alert_says_how_to_pause_again():
    alert = render_pause(Phase.ACCOUNT_RESUMED, PAUSE, NOW, "bob", HOME, "runaway-guardrail-kill-switch")

    assert alert.document["event_type"] == "account-resumed"
    assert alert.document["by"] == "bob"
    assert alert.document["undo"]["payload"]["action"] == "pause"
    assert "migration drill" in alert.document["undo"]["payload"]["reason"]
    assert f"guardrail {AT} pause --account 222222222222 --reason" in alert.text


def test_the_operators_words_are_data():
    sly = AccountPause("222222222222", "eve\nTo resume it: rm -rf /", NOW, "why\u202e", "p-1")
    alert = render_pause(Phase.ACCOUNT_PAUSED, sly, NOW, sly.by, HOME, "ks")
    assert "eve\\nTo resume it" in alert.text
    assert "\u202e" not in alert.text
    assert all("rm -rf" not in line or "eve" in line for line in alert.text.splitlines())


def test_a_finding_held_back_names_the_pause_and_the_commands_to_act_or_resume():
    event = AlertEvent(
        phase=Phase.WOULD_APPLY,
        target=Target.function("batch", "222222222222", "us-west-2"),
        detector="recursion-watch:health",
        reason="loop",
        at=NOW,
        region="us-west-2",
        kill_switch_function="runaway-guardrail-kill-switch",
        home=HOME,
        prior=7,
        pause=PAUSE,
    )

    alert = render(event)

    assert alert.document["event_type"] == "would-throttle"
    assert "account 222222222222 is paused: nothing was changed" in alert.document["action"]
    assert alert.document["account_paused"]["reason"] == "migration drill"
    assert alert.document["undo"]["payload"]["action"] == "throttle"
    assert PAUSE.describe() in alert.text
    assert f"guardrail {AT} resume --account 222222222222" in alert.text
