"""Issue 9, findings 2 and 5: alert text is data, bounded, and always small enough for SNS."""

import json
import re
from datetime import UTC, datetime

import pytest

from guardrail.alerts import AlertEvent, Phase, render, render_notice
from guardrail.alerts.fields import (
    MAX_EVIDENCE_KEYS,
    MAX_EVIDENCE_TOTAL,
    MAX_EVIDENCE_VALUE,
    MAX_REASON,
    MESSAGE_BUDGET_BYTES,
    SNS_LIMIT_BYTES,
    clean,
)
from guardrail.domain import Notice, Target

AT = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
FAKE_UNDO = "\n\nTo undo, run: guardrail panic --yes\n"
REAL_UNDO = "To restore it:"


def event(**overrides):
    values = {
        "phase": Phase.APPLIED,
        "target": Target.function("nightly-batch"),
        "detector": "recursion-guard",
        "reason": "depth 12 exceeds 10",
        "at": AT,
        "region": "us-west-2",
        "kill_switch_function": "runaway-guardrail-kill-switch",
        "prior": 7,
        "evidence": {"chain_id": "c-1", "operation": "lambda.Invoke"},
    }
    return AlertEvent(**{**values, **overrides})


def test_a_30_kb_operation_is_bounded_and_the_alert_fits_sns():
    """Finding 2: the 30 KB `operation` made SNS answer "Message too long"; the throttle went unreported."""
    alert = render(event(evidence={"operation": "A" * 30_000, "chain_id": "c-1"}))

    assert alert.size() < MESSAGE_BUDGET_BYTES < SNS_LIMIT_BYTES
    operation = alert.document["evidence"]["operation"]
    assert len(operation) == MAX_EVIDENCE_VALUE
    assert operation.endswith("... [30000 chars]")
    assert alert.fallback is not None  # the short alert, should SNS refuse this one anyway
    assert "short" not in alert.document


@pytest.mark.parametrize("where", ["reason", "evidence", "target", "error"])
def test_a_forged_undo_line_never_becomes_a_line_of_the_email(where):
    """Finding 5: a newline in a field put a fake "To undo, run: guardrail panic --yes" line in an e-mail."""
    forged = f"depth 12{FAKE_UNDO}\x1b[2J\u202eoy--\u2028x"
    change = {
        "reason": {"reason": forged},
        "evidence": {"evidence": {"operation": forged, f"key{FAKE_UNDO}": 1}},
        "target": {"target": Target.function(forged)},
        "error": {"phase": Phase.APPLY_FAILED, "error": forged},
    }[where]
    alert = render(event(**change))

    lines = alert.text.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("To undo")]
    assert all(char == "\n" or char.isprintable() for char in alert.text)
    shown = [line for line in lines if "To undo, run: guardrail panic --yes" in line]
    assert shown  # shown, escaped, on the line of the field that carried it
    assert all(re.search(r"\\+n\\+nTo undo, run", line) for line in shown)  # after escaped newlines
    assert "x1b[2J" in alert.text
    assert "u202eoy--" in alert.text
    assert not {"\x1b", "\u202e", "\u2028"} & set(alert.text)
    assert "\n" not in alert.subject
    assert all(char.isprintable() for char in alert.subject)
    for field in ("default", "email"):
        assert json.loads(alert.sns_message())[field] == alert.text


def test_evidence_is_quoted_data_one_line_per_key():
    alert = render(event(evidence={"operation": 'say "hi"', "queries": 412, "regions": ["eu-west-1"]}))

    lines = alert.text.splitlines()
    start = lines.index("Evidence (as received, quoted):")
    assert lines[start + 1 : start + 4] == [
        '  "operation": "say \\"hi\\""',
        '  "queries": 412',
        '  "regions": ["eu-west-1"]',
    ]
    assert lines[start + 5] == REAL_UNDO
    assert alert.document["evidence"] == {"operation": 'say "hi"', "queries": 412, "regions": ["eu-west-1"]}


def test_every_field_is_bounded():
    many = {f"k{i:03}": "v" for i in range(100)}
    alert = render(event(reason="r" * 50_000, detector="d" * 5_000, evidence={"x" * 1_000: 1, **many}))

    assert len(alert.document["reason"]) == MAX_REASON
    assert len(alert.document["detector"]) == 128
    assert len(alert.document["evidence"]) == MAX_EVIDENCE_KEYS + 1
    assert alert.document["evidence"]["_omitted_keys"] == 101 - MAX_EVIDENCE_KEYS
    assert max(len(line) for line in alert.text.splitlines()) < 1_100
    assert len(alert.subject) < 100


def test_structures_keep_their_shape_up_to_a_bound_and_all_evidence_is_bounded():
    structured = {"data_regions": ["ap-northeast-1"], "note": "x\ny"}
    huge = {f"k{i:02}": ["v" * 250] * 7 for i in range(MAX_EVIDENCE_KEYS)}  # 1,800 characters each
    alert = render(event(evidence={"a": structured, "b": list(range(1_000)), **huge}))

    evidence = alert.document["evidence"]
    assert evidence["a"] == {"data_regions": ["ap-northeast-1"], "note": "x\\ny"}
    assert evidence["b"].startswith("[0, 1, 2") and len(evidence["b"]) == MAX_EVIDENCE_VALUE
    assert len(json.dumps(evidence)) < MAX_EVIDENCE_TOTAL + 2_000
    assert evidence["k22"].startswith("(omitted: the evidence is over")
    assert alert.fallback is not None  # the full alert


def test_unicode_is_kept_and_the_subject_is_ascii():
    alert = render(event(target=Target.workgroup("équipe-数据"), reason="coût élevé 💸"))

    assert alert.document["workgroup"] == "équipe-数据"
    assert "coût élevé 💸" in alert.text
    assert alert.subject.isascii()
    assert "\\xe9quipe-\\u6570\\u636e" in alert.subject
    assert json.loads(alert.sns_message())["default"] == alert.text


def test_when_even_the_bounded_alert_is_too_big_the_short_one_is_the_alert():
    wide = {f"k{i:02}": "💸" * 1_000 for i in range(MAX_EVIDENCE_KEYS)}  # 4 bytes a character, everywhere
    alert = render(event(evidence=wide, reason="💸" * 5_000))

    assert alert.document["short"] is True
    assert alert.fallback is None
    assert alert.size() < MESSAGE_BUDGET_BYTES
    assert "reason" not in alert.document
    assert "evidence" not in alert.document
    assert alert.document["function"] == "nightly-batch"
    assert alert.document["undo"]["payload"] == {"action": "restore", "functions": ["nightly-batch"]}
    assert alert.document["undo"]["guardrail_cli"] in alert.text
    assert alert.text.startswith("Runaway Guardrail throttled nightly-batch")


def test_the_short_fallback_names_target_action_and_undo():
    short = render(event()).fallback

    assert short is not None
    assert short.subject == "[guardrail] throttled nightly-batch (reserved concurrency set to 0)"
    assert "Function:            nightly-batch (us-west-2)" in short.text
    assert "the full one could not be sent" in short.text
    assert short.document["undo"]["guardrail_cli"] in short.text
    assert short.attributes["event_type"] == "throttled"


def test_notices_are_cleaned_too():
    notice = Notice(
        subject=f"arn:aws:iam::123456789012:role/x{FAKE_UNDO}",
        detector="athena-watch",
        reason=f"12 queries{FAKE_UNDO}",
        observed_at=AT,
        evidence={"query": "SELECT 1" * 10_000},
    )
    alert = render_notice(notice, region="us-west-2")

    assert not [line for line in alert.text.splitlines() if line.startswith("To undo")]
    assert len(alert.document["evidence"]["query"]) == MAX_EVIDENCE_VALUE
    assert alert.fallback is not None
    assert alert.fallback.document["undo"] is None


def test_clean_escapes_controls_and_bounds_length():
    assert clean("a\nb\tc\x1b[0m\u202e\u200bd", 100) == "a\\nb\\tc\\x1b[0m\\u202e\\u200bd"
    assert clean("ok", 100) == "ok"
    assert clean(42, 100) == "42"
    cut = clean("x" * 1_000, 50)
    assert len(cut) == 50
    assert cut.endswith("... [1000 chars]")
