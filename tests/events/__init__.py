"""Real AWS sample events (each folder's SOURCES.md names where every file comes from)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent


def sample(folder: str, name: str) -> dict[str, Any]:
    """The sample event `name` (without `.json`) of `folder` (`health`, `cloudwatch`)."""
    event: dict[str, Any] = json.loads((EVENTS / folder / f"{name}.json").read_text())
    return event


def samples(folder: str) -> list[str]:
    """The names of every sample event in `folder`."""
    return sorted(path.stem for path in (EVENTS / folder).glob("*.json"))
