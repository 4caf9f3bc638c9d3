"""The kill switch's `history` request and answer, and the CLI's `--since` (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from guardrail.domain import AuditEntry, Target
from guardrail.kill_switch import HistoryRequest, parse_request
from guardrail.kill_switch.history import answer_history
from guardrail.kill_switch.requests import DEFAULT_HISTORY, InvalidRequest
from guardrail.scope import Scope
from guardrail_cli.grammar import since_time

ACCOUNT = "123456789012"
T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def parse(**fields):
    return parse_request({"action": "history", **fields}, scope=Scope(ACCOUNT, "us-east-1"))


def test_history_names_one_function_one_workgroup_or_every_target():
    assert parse() == HistoryRequest(action="history", limit=DEFAULT_HISTORY)
    assert parse().target() is None
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:nightly-batch"
    assert parse(function=arn).target() == Target.function("nightly-batch", ACCOUNT, "us-east-1")
    assert parse(workgroup="primary", since="2026-11-01T00:00:00+09:00").target() == Target.workgroup(
        "primary", ACCOUNT, "us-east-1"
    )


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"function": "a", "workgroup": "b"}, "name a function or a workgroup, not both"),
        ({"function": "not a name"}, "function:"),
        ({"since": "2026-11-01T00:00:00"}, "since: Input should have timezone info"),
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"confirm": f"panic-{ACCOUNT}"}, "confirm: Extra inputs are not permitted"),
    ],
)
def test_bad_history_requests_name_their_problem(fields, problem):
    with pytest.raises(InvalidRequest, match=problem):
        parse(**fields)


class RecordingAudit:
    def __init__(self, entries):
        self.entries, self.asked = entries, []

    def history(self, *, target=None, since=None, limit=100):
        self.asked.append((target, since, limit))
        return self.entries[:limit]


def test_the_answer_says_when_older_entries_were_left_out_and_asks_in_utc():
    entries = [
        AuditEntry(Target.function("f"), "throttle", "throttled", T0 - timedelta(minutes=m)) for m in range(3)
    ]
    audit = RecordingAudit(entries)
    answer = answer_history(parse(limit=2, since="2026-11-28T11:00:00+09:00"), audit)
    assert audit.asked == [(None, T0, 3)]  # one more than asked, to know whether there are more
    assert answer["truncated"] is True
    assert answer["entries"][0] == {
        "function": "f",
        "action": "throttle",
        "result": "throttled",
        "at": T0.isoformat(),
        "detector": "",
        "reason": "",
        "detail": "",
    }
    assert answer_history(parse(limit=3), RecordingAudit(entries))["truncated"] is False


def test_since_is_relative_or_an_iso_date_in_utc():
    now = T0
    assert since_time("7d", now) == T0 - timedelta(days=7)
    assert since_time("24h", now) == T0 - timedelta(hours=24)
    assert since_time("30m", now) == T0 - timedelta(minutes=30)
    assert since_time("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert since_time("2026-11-01T09:00:00+09:00", now) == datetime(2026, 11, 1, tzinfo=UTC)
