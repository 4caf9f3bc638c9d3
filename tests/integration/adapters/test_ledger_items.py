"""The ledger's items, attribute by attribute, as every write leaves them in the table (on moto).

Deployed tables hold these items and the next release reads them in place: a change of layout is a
migration, never a side effect of reshaping the code, so each kind of item is pinned here whole.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from guardrail.account_pause import AccountPause
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.scan_watchlist import ScanWatchlist
from guardrail.domain import ActionRecord, AuditEntry, BreakerSlot, Status, Takeover, Target

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=30)
T2 = T0 + timedelta(minutes=5)
HOME = Target.function("nightly-batch", "123456789012", "us-east-1")
AWAY = Target.workgroup("primary", "222222222222", "us-west-2")
_SUFFIX = re.compile(r"#[0-9a-f]{12}$")


@pytest.fixture
def ledger(deployed):
    return Ledger(deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session)


def items(deployed, pk: str) -> list[dict[str, Any]]:
    """The partition's raw items, sort key order, each audit line's random suffix shown as `#<id>`."""
    answer = deployed.session.client("dynamodb").query(
        TableName=deployed.settings.ledger_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )
    found = answer["Items"]
    for item in found:
        item["sk"]["S"] = _SUFFIX.sub("#<id>", item["sk"]["S"])
    return found


def s(text: str) -> dict[str, str]:
    return {"S": text}


def n(number: int) -> dict[str, str]:
    return {"N": str(number)}


def test_a_record_its_moves_and_their_audit_lines(deployed, ledger):
    record = ActionRecord(
        HOME, Status.APPLYING, 7, "r-1", T0, "athena-watch", "412 queries", {"queries": 412}
    )
    assert ledger.claim(record, replacing=None) is None
    takeover = Takeover("kill-switch", "", {"requested_by": "alice"}, prior=9, prior_read=True)
    audit = AuditEntry(HOME, "throttle", "throttled", T1, "kill-switch", "stop it", "by alice")
    assert ledger.transition(ledger.get(HOME), Status.ENFORCED, T1, audit=audit, takeover=takeover)
    held = {
        "pk": s("FUNCTION#nightly-batch"),
        "sk": s("THROTTLE"),
        "kind": s("function"),
        "name": s("nightly-batch"),
        "prior": n(9),
        "throttle_id": s("r-1"),
        "throttled_at": s(T0.isoformat()),
        "throttled_ms": n(int(T0.timestamp() * 1000)),
        "detector": s("kill-switch"),
        "reason": s("-"),
        "evidence": s('{"requested_by": "alice"}'),
        "status": s("throttled"),
        "changed_at": s(T1.isoformat()),
        "moves": n(1),
    }
    line = {
        "pk": s("FUNCTION#nightly-batch"),
        "sk": s(f"AUDIT#{T1.isoformat()}#<id>"),
        "kind": s("function"),
        "name": s("nightly-batch"),
        "action": s("throttle"),
        "result": s("throttled"),
        "at": s(T1.isoformat()),
        "detector": s("kill-switch"),
        "reason": s("stop it"),
        "detail": s("by alice"),
    }
    assert items(deployed, "FUNCTION#nightly-batch") == [line, held]

    assert ledger.transition(ledger.get(HOME), Status.RESTORED, T2)
    restored = {name: value for name, value in held.items() if name != "status"}
    restored |= {
        "moves": n(2),
        "restored_at": s(T2.isoformat()),
        "restored_ms": n(int(T2.timestamp() * 1000)),
    }
    assert items(deployed, "FUNCTION#nightly-batch") == [line, restored]


def test_a_record_away_from_home_and_an_audit_line_without_detector_reason_or_detail(deployed, ledger):
    record = ActionRecord(AWAY, Status.APPLYING, "ENABLED", "r-2", T0, "athena-watch", "", {})
    assert ledger.claim(record, replacing=None) is None
    ledger.append_audit(AuditEntry(AWAY, "disable", "disabled", T1))
    pk = "WORKGROUP#222222222222#us-west-2#primary"
    assert items(deployed, pk) == [
        {
            "pk": s(pk),
            "sk": s(f"AUDIT#{T1.isoformat()}#<id>"),
            "kind": s("workgroup"),
            "name": s("primary"),
            "action": s("disable"),
            "result": s("disabled"),
            "at": s(T1.isoformat()),
        },
        {
            "pk": s(pk),
            "sk": s("THROTTLE"),
            "kind": s("workgroup"),
            "name": s("primary"),
            "prior": s("ENABLED"),
            "throttle_id": s("r-2"),
            "throttled_at": s(T0.isoformat()),
            "throttled_ms": n(int(T0.timestamp() * 1000)),
            "detector": s("athena-watch"),
            "reason": s("-"),
            "evidence": s("{}"),
            "status": s("applying"),
        },
    ]


def test_signal_marks_counts_and_breaker_slots(deployed, ledger):
    assert ledger.claim_signal("event#1", now=T0, ttl_seconds=600)
    assert ledger.count_signal("noise#athena", now=T0, ttl_seconds=3600) == 1
    assert ledger.count_signal("noise#athena", now=T1, ttl_seconds=3600) == 2
    slot = BreakerSlot("123456789012", "us-east-1", 2, T0, "function:nightly-batch")
    assert ledger.take_breaker_slot(slot, window=timedelta(hours=1))

    assert items(deployed, "SIGNAL#event#1") == [
        {"pk": s("SIGNAL#event#1"), "sk": s("SIGNAL"), "expires_at": n(int(T0.timestamp()) + 600)}
    ]
    assert items(deployed, "COUNT#noise#athena") == [
        {
            "pk": s("COUNT#noise#athena"),
            "sk": s("SIGNAL"),
            "count": n(2),
            "expires_at": n(int(T0.timestamp()) + 3600),
        }
    ]
    assert items(deployed, "BREAKER#123456789012#us-east-1#2") == [
        {
            "pk": s("BREAKER#123456789012#us-east-1#2"),
            "sk": s("BREAKER"),
            "account": s("123456789012"),
            "region": s("us-east-1"),
            "slot": n(2),
            "taken_at": s(T0.isoformat()),
            "taken_ms": n(int(T0.timestamp() * 1000)),
            "target": s("function:nightly-batch"),
            "status": s("breaker"),
            "throttled_at": s(T0.isoformat()),
            "expires_at": n(int(T0.timestamp()) + 2 * 3600),
        }
    ]


def test_an_account_pause_and_its_resume_with_their_audit_lines(deployed, ledger):
    pause = AccountPause("222222222222", "alice", T0, "migration drill", "p-1")
    assert ledger.pause_account(pause) is None
    paused = {
        "pk": s("PAUSE#222222222222"),
        "sk": s("PAUSE"),
        "account": s("222222222222"),
        "paused_by": s("alice"),
        "reason": s("migration drill"),
        "pause_id": s("p-1"),
        "paused_at": s(T0.isoformat()),
        "paused_ms": n(int(T0.timestamp() * 1000)),
        "status": s("paused"),
        "throttled_at": s(T0.isoformat()),
    }

    def line(action: str, result: str, at: datetime, detail: str) -> dict[str, Any]:
        return {
            "pk": s("PAUSE#222222222222"),
            "sk": s(f"AUDIT#{at.isoformat()}#<id>"),
            "kind": s("account"),
            "name": s("222222222222"),
            "action": s(action),
            "result": s(result),
            "at": s(at.isoformat()),
            "detector": s("kill-switch"),
            "reason": s("migration drill"),
            "detail": s(detail),
        }

    paused_line = line("pause", "paused", T0, "by alice")
    assert items(deployed, "PAUSE#222222222222") == [paused_line, paused]

    assert ledger.resume_account(pause, at=T1, by="bob")
    resumed_line = line("resume", "resumed", T1, f"by bob; {pause.describe()}")
    assert items(deployed, "PAUSE#222222222222") == [paused_line, resumed_line]


def test_the_scans_watchlist(deployed):
    watchlist = ScanWatchlist(deployed.settings.ledger_table, boto3_session=deployed.session)
    watchlist.watch("invocation-scan:2026-11-28T02", ["b", "a"], now=T0, ttl_seconds=7200)
    watchlist.watch("invocation-scan:2026-11-28T02", ["c"], now=T1, ttl_seconds=7200)
    [item] = items(deployed, "SCAN#WATCH#invocation-scan:2026-11-28T02")
    assert sorted(item.pop("functions")["SS"]) == ["a", "b", "c"]
    assert item == {
        "pk": s("SCAN#WATCH#invocation-scan:2026-11-28T02"),
        "sk": s("WATCH"),
        "expires_at": n(int(T1.timestamp()) + 7200),
    }
