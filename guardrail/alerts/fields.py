r"""Alert fields that come from outside, made safe to show: control characters escaped, every field bounded.

Names, reasons and evidence can be written by whoever sent a signal, so an alert treats them as data:
control characters (newlines, ANSI escapes, bidi overrides, line separators) are shown as escapes such as
`\n` or `\u202e`, never acted on, and every field has a bound, so that no field can add a line, reorder
what a reader sees, or make the message too long for SNS.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from guardrail.account_pause import AccountPause
from guardrail.domain import Digest, DigestEntry, Notice, Target

if TYPE_CHECKING:
    from guardrail.alerts.events import AlertEvent

#: Bounds, in characters after escaping. Valid function names (64), ARNs (~140) and workgroup names (128)
#: fit MAX_NAME untouched; MAX_SUBJECT is below SNS's limit on subjects (100).
MAX_NAME = 256
MAX_DETECTOR = 128
MAX_REASON = 1000
MAX_ERROR = 1000
MAX_REGION = 32
MAX_EVIDENCE_KEYS = 25
MAX_EVIDENCE_KEY = 64
MAX_EVIDENCE_VALUE = 300  # a string
MAX_EVIDENCE_STRUCTURE = 2000  # a list or an object, as JSON; a longer one is shown as a bounded string
MAX_EVIDENCE_TOTAL = 8000  # all evidence, as JSON; keys past it keep only a note
MAX_SUBJECT = 99
#: SNS refuses a message (body, subject and attributes together) over 256 KiB; alerts stay under this.
SNS_LIMIT_BYTES = 262_144
MESSAGE_BUDGET_BYTES = 200_000

_UNSAFE = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format (bidi, zero-width), surrogates, separators
_OMITTED = f"(omitted: the evidence is over {MAX_EVIDENCE_TOTAL} characters)"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def clean(value: object, limit: int) -> str:
    """`value` as one line of at most `limit` characters, its control characters shown as escapes."""
    text = value if isinstance(value, str) else str(value)
    escaped = "".join(_escape(char) for char in text[:limit])  # escaping only lengthens: cut first
    if len(escaped) <= limit and len(text) <= limit:
        return escaped
    marker = f"... [{len(text)} chars]"
    return escaped[: max(limit - len(marker), 0)] + marker


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE:
        return char
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def subject_line(text: str) -> str:
    """An SNS subject: one line of printable ASCII (others escaped), under SNS's 100 characters."""
    ascii_text = clean(text, 4 * MAX_SUBJECT).encode("ascii", "backslashreplace").decode("ascii")
    return ascii_text if len(ascii_text) <= MAX_SUBJECT else ascii_text[: MAX_SUBJECT - 3] + "..."


def evidence(values: Mapping[Any, Any]) -> dict[str, Any]:
    """At most MAX_EVIDENCE_KEYS items (by key), keys and values cleaned and bounded, JSON-ready."""
    items = sorted(((clean(key, MAX_EVIDENCE_KEY), value) for key, value in values.items()), key=_first)
    kept: dict[str, Any] = {}
    used = 0
    for key, value in items[:MAX_EVIDENCE_KEYS]:
        datum = _datum(value)
        used += len(key) + len(json.dumps(datum, ensure_ascii=False))
        kept[key] = datum if used <= MAX_EVIDENCE_TOTAL else _OMITTED
    if len(items) > MAX_EVIDENCE_KEYS:
        kept["_omitted_keys"] = len(items) - MAX_EVIDENCE_KEYS
    return kept


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def _datum(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return clean(value, MAX_EVIDENCE_VALUE)
    dumped = json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)
    if len(dumped) > MAX_EVIDENCE_STRUCTURE:
        return clean(dumped, MAX_EVIDENCE_VALUE)
    return _cleaned(json.loads(dumped))


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value, MAX_EVIDENCE_VALUE)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {clean(key, MAX_EVIDENCE_KEY): _cleaned(item) for key, item in value.items()}
    return value


def evidence_lines(values: Mapping[str, Any]) -> list[str]:
    """Cleaned evidence as quoted data, one line per key: `  "key": "value"`."""
    return [
        f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False, sort_keys=True)}"
        for key, value in values.items()
    ]


def safe_event(event: AlertEvent) -> AlertEvent:
    """The event with every field that may come from outside cleaned and bounded."""
    return replace(
        event,
        target=Target(
            event.target.kind,
            clean(event.target.name, MAX_NAME),
            clean(event.target.account, MAX_REGION),
            clean(event.target.region, MAX_REGION),
        ),
        detector=clean(event.detector, MAX_DETECTOR),
        reason=clean(event.reason, MAX_REASON),
        region=clean(event.region, MAX_REGION),
        kill_switch_function=clean(event.kill_switch_function, MAX_NAME),
        evidence=evidence(event.evidence),
        error=None if event.error is None else clean(event.error, MAX_ERROR),
        pause=None if event.pause is None else safe_pause(event.pause),
    )


def safe_pause(pause: AccountPause) -> AccountPause:
    """The pause with the operator's words (who, why) cleaned and bounded."""
    return replace(pause, by=clean(pause.by, MAX_NAME), reason=clean(pause.reason, MAX_REASON))


def safe_notice(notice: Notice) -> Notice:
    """The notice with every field that may come from outside cleaned and bounded."""
    return replace(
        notice,
        subject=clean(notice.subject, MAX_NAME),
        detector=clean(notice.detector, MAX_DETECTOR),
        reason=clean(notice.reason, MAX_REASON),
        evidence=evidence(notice.evidence),
        doubt=clean(notice.doubt, MAX_REASON),
        account=clean(notice.account, MAX_REGION),
    )


def safe_digest(digest: Digest) -> Digest:
    """The digest with every entry's fields that may come from outside cleaned and bounded."""
    return replace(
        digest,
        day=clean(digest.day, MAX_REGION),
        entries=tuple(
            replace(
                entry,
                subject=clean(entry.subject, MAX_NAME),
                detector=clean(entry.detector, MAX_DETECTOR),
                summary=clean(entry.summary, MAX_REASON),
                reason=clean(entry.reason, MAX_REASON),
                account=clean(entry.account, MAX_REGION),
                region=clean(entry.region, MAX_REGION),
            )
            for entry in digest.entries
        ),
    )


def entry_lines(entry: DigestEntry) -> list[str]:
    """One digest entry as text: what recurred, how often and when, its latest reason (fields cleaned)."""
    where = f"account {entry.account}, {entry.region}" if entry.account else entry.region
    size = f", {entry.size_bytes / 2**30:,.1f} GB" if entry.size_bytes else ""
    return [
        f"- {entry.subject} ({where}; {entry.detector}): {entry.summary}: {entry.count} time(s){size}, "
        f"{entry.first_seen:%H:%M}-{entry.last_seen:%H:%M} UTC",
        f"  latest: {entry.reason}",
    ]
