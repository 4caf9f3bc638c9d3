"""The daily digest through the one renderer: its own event type, every outside field cleaned and bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from guardrail.alerts.fields import MAX_NAME, SNS_LIMIT_BYTES
from guardrail.alerts.render import DIGEST_EVENT_TYPE, render_digest
from guardrail.domain import Digest, DigestEntry

AT = datetime(2026, 11, 2, 0, 5, tzinfo=UTC)
CALLER = "nightly-batch@arn:aws:iam::123456789012:role/nightly-batch-role"


def entry(**changes) -> DigestEntry:
    values = {
        "subject": CALLER,
        "detector": "athena-watch",
        "summary": "cross-region read of sales.orders (ap-northeast-1) into Athena in us-west-2",
        "count": 119,
        "size_bytes": 119 * 2**30,
        "first_seen": AT,
        "last_seen": AT.replace(hour=1, minute=24),
        "reason": "read 190.4 GB stored in ap-northeast-1 into Athena in us-west-2 in 24 h",
        "account": "123456789012",
        "region": "us-west-2",
    }
    return DigestEntry(**(values | changes))


def test_a_digest_is_one_message_of_its_own_event_type_naming_each_condition():
    alert = render_digest(Digest("2026-11-02", (entry(),)), region="us-west-2")
    doc = alert.document
    assert (doc["event_type"], doc["day"], doc["undo"]) == (DIGEST_EVENT_TYPE, "2026-11-02", None)
    [condition] = doc["conditions"]
    assert (condition["subject"], condition["count"], condition["size_bytes"]) == (CALLER, 119, 119 * 2**30)
    assert condition["first_seen"] == "2026-11-02T00:05:00+00:00"
    assert alert.attributes["event_type"] == "digest"
    assert "daily digest for 2026-11-02" in alert.subject
    assert "119 time(s), 119.0 GB, 00:05-01:24 UTC" in alert.text
    assert "cross-region read of sales.orders (ap-northeast-1)" in alert.text
    assert json.loads(json.loads(alert.sns_message())["sqs"])["event_type"] == "digest"


def test_names_from_outside_are_shown_as_escapes_and_bounded():
    forged = entry(subject="batch\n[guardrail] all clear\u202e" + "x" * 5000, summary="a\rb", reason="\x1b[2")
    alert = render_digest(Digest("2026-11-02", (forged,)), region="us-west-2")
    assert "\n[guardrail] all clear" not in alert.text
    assert "\\n[guardrail] all clear\\u202e" in alert.text
    assert "a\\rb" in alert.text and "\x1b" not in json.dumps(alert.document, ensure_ascii=False)
    assert len(alert.document["conditions"][0]["subject"]) <= MAX_NAME


def test_more_conditions_than_shown_are_counted_and_a_huge_digest_stays_under_sns_limit():
    many = tuple(entry(subject=f"{i}" + "y" * 2000, reason="z" * 5000) for i in range(50))
    alert = render_digest(Digest("2026-11-02", many, more=7), region="us-west-2")
    assert alert.size() < SNS_LIMIT_BYTES
    assert "and 7 more condition(s)" in alert.text or alert.document.get("short")
    assert alert.document["more_conditions"] == 7
