import json
import shlex

from guardrail.alerts import Phase, render, render_notice
from guardrail.alerts.pause_alert import ACCOUNT_PHASES
from guardrail.domain import Notice, Target
from guardrail.prior_state import ActionReport, EventSourceMapping, FunctionPrior
from tests.unit.alert_events import AT, event


def test_throttle_alert_names_everything_and_the_undo_command():
    alert = render(event())

    doc = alert.document
    assert (doc["event_type"], doc["function"], doc["detector"], doc["prior_reserved_concurrency"]) == (
        "throttled",
        "nightly-batch",
        "athena-watch",
        7,
    )
    assert doc["target_kind"] == "function"
    assert doc["time"] == "2026-11-28T02:30:00+00:00"
    assert doc["evidence"]["queries"] == 412
    undo = doc["undo"]
    assert undo["payload"] == {"action": "restore", "functions": ["nightly-batch"]}
    argv = shlex.split(undo["aws_cli"])
    assert argv[:3] == ["aws", "lambda", "invoke"]
    assert json.loads(argv[argv.index("--payload") + 1]) == undo["payload"]
    assert "runaway-guardrail-kill-switch" in argv
    assert undo["guardrail_cli"] in alert.text
    assert "Prior reservation:   7" in alert.text
    assert alert.attributes == {
        "event_type": "throttled",
        "function": "nightly-batch",
        "detector": "athena-watch",
    }


def test_sns_message_carries_text_for_email_and_json_for_machines():
    alert = render(event(prior=None))
    message = json.loads(alert.sns_message())

    assert message["default"] == message["email"] == alert.text
    assert (
        json.loads(message["sqs"])
        == json.loads(message["lambda"])
        == json.loads(message["https"])
        == alert.document
    )
    assert "none (unreserved)" in alert.text


def test_restore_alert_offers_to_throttle_again_and_failures_offer_nothing():
    assert render(event(phase=Phase.RESTORED)).document["undo"]["action"] == "throttle"
    failed = render(event(phase=Phase.APPLY_FAILED, error="AccessDenied: no"))
    assert failed.document["event_type"] == "throttle-failed"
    assert failed.document["undo"] is None
    assert "FAILED" in failed.subject
    assert "AccessDenied" in failed.text


def test_workgroup_alerts_read_as_workgroups_and_undo_through_the_kill_switch():
    workgroup = Target.workgroup("primary")
    alert = render(event(target=workgroup, prior="ENABLED"))

    doc = alert.document
    assert (doc["event_type"], doc["workgroup"], doc["prior_state"]) == ("disabled", "primary", "ENABLED")
    assert "function" not in doc
    assert alert.subject == "[guardrail] disabled Athena workgroup primary (no new query can start in it)"
    assert "Workgroup:           primary (us-west-2)" in alert.text
    assert "Prior state:         ENABLED" in alert.text
    assert doc["undo"]["payload"] == {"action": "restore", "workgroups": ["primary"]}
    assert doc["undo"]["guardrail_cli"].endswith(" restore --workgroup primary")
    assert alert.attributes == {"event_type": "disabled", "workgroup": "primary", "detector": "athena-watch"}
    again = render(event(target=workgroup, phase=Phase.RESTORED, prior="ENABLED")).document["undo"]
    assert again["payload"]["workgroups"] == ["primary"]
    assert "throttle --workgroup primary --reason" in again["guardrail_cli"]
    kinds = {
        phase: render(event(target=workgroup, phase=phase)).document["event_type"]
        for phase in Phase
        if phase not in ACCOUNT_PHASES
    }
    assert kinds == {
        Phase.APPLIED: "disabled",
        Phase.WOULD_APPLY: "would-disable",
        Phase.RESTORED: "restored",
        Phase.LEFT_AS_IS: "left-as-is",
        Phase.CLEARED: "cleared",
        Phase.APPLY_FAILED: "disable-failed",
        Phase.RESTORE_FAILED: "restore-failed",
        Phase.DRIFT: "drift",
        Phase.BREAKER_OPEN: "breaker-open",
    }


def test_notice_says_nothing_was_changed_and_offers_no_undo():
    notice = Notice(
        subject="arn:aws:iam::123456789012:user/alice",
        detector="athena-watch",
        reason="12 queries in 5 min (limit 2)",
        observed_at=AT,
        evidence={"rules": "query-rate", "workgroup": "primary"},
    )
    alert = render_notice(notice, region="us-west-2")

    doc = alert.document
    assert (doc["event_type"], doc["subject"], doc["undo"]) == ("alerted", notice.subject, None)
    assert doc["evidence"]["rules"] == "query-rate"
    assert "nothing was changed" in alert.subject
    assert "Subject:             arn:aws:iam::123456789012:user/alice (us-west-2)" in alert.text
    assert alert.attributes["event_type"] == "alerted"


def test_subject_fits_sns_limit():
    assert len(render(event(target=Target.function("f" * 64), phase=Phase.WOULD_APPLY)).subject) <= 100


QUEUE = "arn:aws:sqs:us-west-2:123456789012:orders"
STREAM = "arn:aws:kinesis:us-west-2:123456789012:stream/clicks"


def paused_prior():
    return FunctionPrior(7, (EventSourceMapping("u-1", QUEUE), EventSourceMapping("u-2", STREAM))).value()


def test_throttle_alert_names_each_paused_source_the_stream_risk_and_the_dead_letter_queue():
    dlq = "arn:aws:sqs:us-west-2:123456789012:batch-dlq"
    report = ActionReport(
        failures=(f"event source {STREAM} (u-2) not paused: ResourceInUseException: busy",),
        facts={"async_failure_targets": {"dead_letter": dlq}},
    )
    alert = render(event(prior=paused_prior(), report=report))

    assert f"Paused:              event source {QUEUE} (u-1)" in alert.text
    assert f"{STREAM}: records expire after the stream's retention period (24 h by default)" in alert.text
    assert f"{QUEUE}: records expire" not in alert.text
    assert f"Not done:            event source {STREAM} (u-2) not paused" in alert.text
    assert f"retries them for up to 6 h, then sent to dead-letter {dlq}" in alert.text
    assert "Prior reservation:   7" in alert.text
    doc = alert.document
    assert doc["prior_reserved_concurrency"] == 7
    assert [m["uuid"] for m in doc["paused_event_sources"]] == ["u-1", "u-2"]
    assert doc["async_failure_targets"] == {"dead_letter": dlq}
    assert doc["not_done"] == list(report.failures)


def test_restore_alert_names_what_was_resumed_and_notify_only_what_would_be_paused():
    resumed = render(event(phase=Phase.RESTORED, prior=paused_prior())).text
    assert f"Resumed:             event source {QUEUE} (u-1)" in resumed
    assert "Async invocations" not in resumed
    would = render(event(phase=Phase.WOULD_APPLY, prior=paused_prior())).text
    assert f"Would pause:         event source {QUEUE} (u-1)" in would


def test_a_function_with_nothing_paused_reads_as_before():
    alert = render(event(prior=None))
    assert "Paused:" not in alert.text
    assert alert.document["paused_event_sources"] == []
    assert alert.document["prior_reserved_concurrency"] is None
