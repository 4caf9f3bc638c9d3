"""`guardrail history` through the kill switch's real handler, on moto (run in-process, as in test_cli)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from guardrail.adapters.ledger import Ledger
from guardrail.domain import AuditEntry, Target
from guardrail_cli import grammar

pytestmark = pytest.mark.slow  # the guardrail command driven end to end against a deployed stand-in


@pytest.fixture
def acted(guardrail_cli, deployed):
    """A throttle and a restore of nightly-batch by the kill switch, and an older entry of another one."""
    assert guardrail_cli("throttle", "nightly-batch", "--reason", "loop")[0] == grammar.EXIT_OK
    assert guardrail_cli("restore", "nightly-batch")[0] == grammar.EXIT_OK
    old = AuditEntry(
        Target.function("reports"), "throttle", "throttled", datetime(2026, 1, 2, tzinfo=UTC), "scan"
    )
    Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    ).append_audit(old)
    return guardrail_cli


def test_a_functions_history_lists_the_throttle_and_the_restore_newest_first(acted):
    code, out, _ = acted("history", "nightly-batch")
    lines = out.splitlines()
    assert (code, lines[0]) == (grammar.EXIT_OK, "history: 2 entries, newest first")
    assert lines[1].split() == ["time", "(UTC)", "target", "action", "result", "detector", "reason"]
    restore, throttle = lines[2].split(), lines[3].split()
    assert restore[2:6] == ["nightly-batch", "restore", "restored", "kill-switch"]
    assert throttle[2:7] == ["nightly-batch", "throttle", "throttled", "kill-switch", "loop"]
    assert datetime.fromisoformat(f"{restore[0]}T{restore[1]}") >= datetime.fromisoformat(
        f"{throttle[0]}T{throttle[1]}"
    )


def test_the_accounts_history_with_since_and_json(acted):
    code, out, _ = acted("--json", "history")
    answer = json.loads(out)
    assert (code, answer["action"], answer["truncated"]) == (grammar.EXIT_OK, "history", False)
    assert [(e["function"], e["action"]) for e in answer["entries"]] == [
        ("nightly-batch", "restore"),
        ("nightly-batch", "throttle"),
        ("reports", "throttle"),
    ]
    code, out, _ = acted("--json", "history", "--since", "1h")
    assert [e["function"] for e in json.loads(out)["entries"]] == ["nightly-batch", "nightly-batch"]
    code, out, _ = acted("--json", "history", "--since", "2026-01-01", "--limit", "1")
    assert len(json.loads(out)["entries"]) == 1
    assert json.loads(out)["truncated"] is True
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    code, out, _ = acted("history", "--since", tomorrow)
    assert (code, out.splitlines()[0]) == (grammar.EXIT_OK, "history: 0 entries, newest first")


def test_bad_history_requests_are_rejected_with_exit_code_2(acted, capsys):
    code, out, _ = acted("history", "not a name")
    assert (code, out.startswith("rejected: function:")) == (grammar.EXIT_REJECTED, True)
    code, out, _ = acted("history", "--workgroup", "primary", "--limit", "5000")
    assert code == grammar.EXIT_REJECTED
    assert "limit: Input should be less than or equal to 1000" in out
    with pytest.raises(SystemExit) as exited:
        acted("history", "nightly-batch", "--workgroup", "primary")
    assert exited.value.code == grammar.EXIT_REJECTED
    with pytest.raises(SystemExit) as exited:
        acted("history", "--since", "last week")
    assert exited.value.code == grammar.EXIT_REJECTED
    assert "not 7d, 24h, 30m or an ISO date: 'last week'" in capsys.readouterr().err


def test_history_prints_a_refusals_escape_sequences_as_text(guardrail_cli, deployed):
    """Issue 20, item 9: a refusal's `operation` with ESC sequences reached the terminal raw.

    The recursion watch writes the refusal's operation into the audit entry's reason; an OSC 52 write
    would set the operator's clipboard, a CSI sequence recolour or rewrite the screen.
    """
    osc52 = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"
    operation = f"{osc52}lambda:Invoke\x1b[2K\x1b[1A\r\u202e"
    refusal = AuditEntry(
        Target.function("nightly-batch"),
        "throttle",
        "throttled",
        datetime.now(UTC),
        "recursion-watch",
        f"the recursion guard refused {operation} at chain depth 17, past its limit of 16",
        "detail\x1b[31m",
    )
    Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    ).append_audit(refusal)

    code, out, err = guardrail_cli("history", "nightly-batch")

    assert code == grammar.EXIT_OK
    assert not [c for c in out + err if (ord(c) < 0x20 and c != "\n") or c in {"\x7f", "\u202e"}]
    assert "refused \\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07lambda:Invoke\\x1b[2K" in out
    assert "\\u202e" in out
