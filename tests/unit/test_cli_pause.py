"""The CLI's `pause --account X --reason ...`, `resume --account X`, and the paused accounts of `status`."""

from __future__ import annotations

import io

import pytest

from guardrail_cli.grammar import build_parser, check, request_for
from guardrail_cli.main import exit_code
from guardrail_cli.output import render


def request(*argv: str) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    check(parser, args)
    return request_for(args)


def test_pause_and_resume_name_one_account():
    assert request("pause", "--account", "222222222222", "--reason", "drill") == {
        "action": "pause",
        "account": "222222222222",
        "reason": "drill",
    }
    assert request("resume", "--account", "222222222222") == {"action": "resume", "account": "222222222222"}


@pytest.mark.parametrize(
    "argv",
    [
        ("pause", "--account", "222222222222"),  # no reason
        ("pause", "--reason", "drill"),  # no account
        ("resume",),
        ("resume", "--account", "222222222222", "--reason", "r"),
    ],
)
def test_a_pause_or_resume_missing_what_it_needs_is_refused(argv):
    with pytest.raises(SystemExit):
        request(*argv)


def test_the_answers_are_printed_per_account():
    out = io.StringIO()
    render(
        {
            "ok": True,
            "action": "pause",
            "results": [
                {
                    "account": "222222222222",
                    "result": "paused",
                    "by": "alice",
                    "since": "2026-11-28T02:00:00+00:00",
                    "reason": "drill",
                    "alert_sent": False,
                    "error": "alert not sent: down",
                }
            ],
        },
        out,
    )
    assert out.getvalue() == (
        "pause: account 222222222222  paused  by alice since 2026-11-28T02:00:00+00:00: drill;"
        " alert not sent: down; ALERT NOT SENT\n"
    )


def test_status_lists_the_paused_accounts():
    out = io.StringIO()
    answer = {
        "ok": True,
        "action": "status",
        "results": [],
        "paused_accounts": [
            {
                "account": "222222222222",
                "by": "alice",
                "since": "2026-11-28T02:00:00+00:00",
                "reason": "drill",
            }
        ],
    }
    render(answer, out)
    assert out.getvalue().splitlines() == [
        "status (enforce): 0 function(s)",
        " PAUSED account 222222222222 (automatic findings alerted, not applied)"
        " by alice since 2026-11-28T02:00:00+00:00: drill",
    ]
    assert exit_code(answer) == 0


def test_already_paused_and_not_paused_are_not_failures():
    for result in ("already-paused", "not-paused"):
        assert (
            exit_code({"ok": True, "action": "pause", "results": [{"account": "2", "result": result}]}) == 0
        )
