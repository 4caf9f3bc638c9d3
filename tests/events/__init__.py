"""Real AWS sample events (each folder's SOURCES.md names where every file comes from), and how EventBridge
wraps a CloudTrail record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent


def sample(folder: str, name: str) -> dict[str, Any]:
    """The sample event `name` (without `.json`) of `folder` (`health`, `cloudwatch`)."""
    return load(f"{folder}/{name}.json")


def samples(folder: str) -> list[str]:
    """The names of every sample event in `folder`."""
    return sorted(path.stem for path in (EVENTS / folder).glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """The sample `name` (a path under tests/events), as stored."""
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return loaded


def via_eventbridge(record: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """A CloudTrail record as EventBridge delivers it: `AWS API Call via CloudTrail` around it."""
    service = record["eventSource"].split(".", 1)[0]
    return {
        "version": "0",
        "id": event_id or f"ct-{record['eventID']}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }
