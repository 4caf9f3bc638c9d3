"""`guardrail pause` / `resume` against the kill switch's real handler, on moto (see test_cli.py)."""

from __future__ import annotations

import pytest

from devtools.moto_server import ACCOUNT
from guardrail_cli import grammar

pytestmark = [
    pytest.mark.slow,
    pytest.mark.usefixtures("moto_patches"),
]  # the guardrail command driven end to end against a deployed stand-in


def test_pause_status_resume_from_the_terminal_name_the_caller(guardrail_cli, deployed):
    code, out, _ = guardrail_cli("pause", "--account", ACCOUNT, "--reason", "quarter close")
    assert code == grammar.EXIT_OK
    caller = deployed.session.client("sts").get_caller_identity()["Arn"]
    line = out.splitlines()[-1]  # after the handler's own metrics line, which shares stdout here
    assert line.startswith(f"pause: account {ACCOUNT}  paused  by {caller} since ")
    assert line.endswith(": quarter close")

    code, out, _ = guardrail_cli("status")
    assert f" PAUSED account {ACCOUNT} (automatic findings alerted, not applied) by {caller}" in out

    code, out, _ = guardrail_cli("pause", "--account", ACCOUNT, "--reason", "again")
    assert (code, "already-paused" in out, "quarter close" in out) == (grammar.EXIT_OK, True, True)

    code, out, _ = guardrail_cli("resume", "--account", ACCOUNT)
    assert code == grammar.EXIT_OK
    assert f"resume: account {ACCOUNT}  resumed  was account {ACCOUNT} paused by {caller}" in out
    code, out, _ = guardrail_cli("resume", "--account", ACCOUNT)
    assert f"resume: account {ACCOUNT}  not-paused" in out


def test_an_unwatched_account_is_rejected(guardrail_cli):
    code, out, _ = guardrail_cli("pause", "--account", "999999999999", "--reason", "typo")
    assert code == grammar.EXIT_REJECTED
    assert "rejected: account: account 999999999999 is not watched" in out
