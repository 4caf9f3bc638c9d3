"""The hourly bound on alerts that change nothing: per detector, whatever names the notices carry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from guardrail.domain import Notice
from guardrail.enforcement.noise import NoiseBound

NOW = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)


class Counts:
    """The ledger's counts, in memory."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count_signal(self, key: str, *, now: datetime, ttl_seconds: int) -> int:
        self.counts[key] += 1
        return self.counts[key]

    def signals_counted(self, key: str) -> int:
        return self.counts[key]


def notice(subject: str, detector: str = "recursion-guard") -> Notice:
    return Notice(subject=subject, detector=detector, reason="why", observed_at=NOW, doubt="forged?")


def test_past_the_bound_one_summary_then_nothing_whatever_the_names():
    bound = NoiseBound(Counts(), per_hour=3)
    sent = [bound.admit(notice(f"function f{i}"), NOW) for i in range(10)]
    assert [n.subject if n else None for n in sent] == [
        "function f0",
        "function f1",
        "function f2",
        "recursion-guard alerts",
        *[None] * 6,
    ]
    assert sent[3] is not None and sent[3].doubt  # the summary of unverified notices says so


def test_each_detector_has_its_own_bound():
    bound = NoiseBound(Counts(), per_hour=1)
    assert bound.admit(notice("a", "recursion-guard"), NOW) is not None
    assert bound.admit(notice("b", "athena-watch"), NOW) is not None
    assert bound.admit(notice("c", "athena-watch"), NOW).subject == "athena-watch alerts"  # type: ignore[union-attr]


def test_the_next_hours_first_alert_gives_the_number_not_alerted():
    counts = Counts()
    bound = NoiseBound(counts, per_hour=2)
    for i in range(9):  # 2 sent, 1 summary, 6 counted
        bound.admit(notice(f"f{i}"), NOW)

    first = bound.admit(notice("later"), NOW + timedelta(hours=1))
    second = bound.admit(notice("later-2"), NOW + timedelta(hours=1))

    assert first is not None and first.evidence["not_alerted"] == 6
    assert "6 more recursion-guard signals in the hour from 02:00 UTC were not alerted" in first.reason
    assert second is not None and "not_alerted" not in second.evidence
