"""Pure rendering of an action (or a notice) into an SNS message: text for people, JSON for machines."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from guardrail.alerts.commands import account_call, kill_switch_call
from guardrail.alerts.events import AlertEvent, Phase
from guardrail.alerts.feeds import paused, reservation_text
from guardrail.alerts.fields import (
    MAX_REGION,
    MESSAGE_BUDGET_BYTES,
    clean,
    entry_lines,
    evidence_lines,
    safe_digest,
    safe_event,
    safe_notice,
    subject_line,
)
from guardrail.domain import HELD_BY_BREAKER, VOCABULARY, Digest, Notice, TargetKind
from guardrail.prior_state import FunctionPrior, PriorState, WorkgroupPrior

SCHEMA_VERSION = "1"
NOTICE_EVENT_TYPE = "alerted"
#: A notice about a signal that may not act on its own (docs/trust-model.md).
UNVERIFIED_EVENT_TYPE = "unverified"
#: A day's known conditions that recurred, in one message (`guardrail.enforcement.known`).
DIGEST_EVENT_TYPE = "digest"


@dataclass(frozen=True)
class _Presentation:
    label: str  # the text's field name
    noun: str  # how a headline names the target
    applied: str  # the headline of the action once applied
    prior_label: str
    prior_key: str  # the document's field for the prior state
    prior_text: Callable[[PriorState], str]


_PRESENTATION: Mapping[TargetKind, _Presentation] = {
    TargetKind.FUNCTION: _Presentation(
        "Function",
        "{name}",
        "throttled {name} (reserved concurrency set to 0)",
        "Prior reservation",
        "prior_reserved_concurrency",
        lambda prior: reservation_text(FunctionPrior.of(prior).reservation),
    ),
    TargetKind.WORKGROUP: _Presentation(
        "Workgroup",
        "Athena workgroup {name}",
        "disabled Athena workgroup {name} (no new query can start in it)",
        "Prior state",
        "prior_state",
        lambda prior: WorkgroupPrior.of(prior).state,
    ),
}


@dataclass(frozen=True)
class Alert:
    """A rendered SNS message, with the short one to send if SNS refuses it (`fallback`)."""

    subject: str
    text: str
    document: dict[str, Any]
    attributes: dict[str, str]
    fallback: Alert | None = None

    def sns_message(self) -> str:
        """The `Message` for `MessageStructure=json`: text for e-mail, the document for machines."""
        doc = json.dumps(self.document, sort_keys=True, default=str, ensure_ascii=False)
        return json.dumps(
            {
                "default": self.text,
                "email": self.text,
                "email-json": doc,
                "sqs": doc,
                "lambda": doc,
                "http": doc,
                "https": doc,
            },
            ensure_ascii=False,
        )

    def size(self) -> int:
        """The bytes SNS counts against its limit: message, subject and attributes."""
        attributes = sum(
            len(name) + len("String") + len(value.encode()) for name, value in self.attributes.items()
        )
        return len(self.sns_message().encode()) + len(self.subject.encode()) + attributes


def undo_command(event: AlertEvent) -> dict[str, Any] | None:
    """The exact commands that undo this action, or None when there is nothing to undo."""
    undo = {Phase.APPLIED: "restore", Phase.WOULD_APPLY: "restore", Phase.DRIFT: "restore"}
    act = {Phase.RESTORED: "throttle", Phase.CLEARED: "throttle", Phase.BREAKER_OPEN: "throttle"}
    action = {**undo, **act}.get(event.phase)
    if action is None:
        return None
    if event.pause is not None or held_by_breaker(event):  # held back: what to do is to act by hand
        action = "throttle"
    kind = event.target.kind
    payload: dict[str, Any] = {"action": action, kind.plural: [event.target_ref]}
    if action == "throttle":
        payload["reason"] = f"re-apply guardrail {VOCABULARY[kind].verb} ({event.detector})"
    name = shlex.quote(event.target_ref)
    operand = name if kind is TargetKind.FUNCTION else f"--{kind.value} {name}"
    cli_reason = f" --reason {shlex.quote(payload['reason'])}" if "reason" in payload else ""
    return kill_switch_call(
        payload,
        f"{action} {operand}{cli_reason}",
        region=event.kill_switch_region,
        function=event.kill_switch_function,
    )


def held_by_breaker(event: AlertEvent) -> bool:
    """True for a finding the circuit breaker held back (its record's evidence says so)."""
    return str(event.evidence.get("held_back", "")).startswith(HELD_BY_BREAKER)


def render(event: AlertEvent) -> Alert:
    """Render one action on a target as an SNS alert (fields from outside cleaned and bounded)."""
    event = safe_event(event)
    kind = event.target.kind
    shown = _PRESENTATION[kind]
    noun = shown.noun.format(name=event.target.name)
    verb = VOCABULARY[kind].verb
    headline = {
        Phase.APPLIED: shown.applied.format(name=event.target.name),
        Phase.WOULD_APPLY: f"would {verb} {noun} (notify-only mode: nothing was changed)",
        Phase.RESTORED: f"restored {noun}",
        Phase.LEFT_AS_IS: f"let go of {noun} without putting it back: it changed while held (left as it is)",
        Phase.CLEARED: f"cleared the notify-only flag on {noun}",
        Phase.APPLY_FAILED: f"FAILED to {verb} {noun}",
        Phase.RESTORE_FAILED: f"FAILED to restore {noun}",
        Phase.DRIFT: f"found {noun} running although held, and {verb}d it again (drift; prior kept)",
        Phase.BREAKER_OPEN: (
            f"circuit breaker OPEN in {_place(event.target.account, event.region)}: automatic enforcement"
            f" there only alerts until a slot frees (would {verb} {noun})"
        ),
    }[event.phase]
    if event.phase is Phase.WOULD_APPLY and held_by_breaker(event):
        headline = f"would {verb} {noun} (held back by the circuit breaker: nothing was changed)"
    if event.pause is not None:
        headline = f"would {verb} {noun} (account {event.pause.account} is paused: nothing was changed)"
    undo = undo_command(event)
    document: dict[str, Any] = {
        "event_type": event.event_type,
        "target_kind": kind.value,
        kind.value: event.target.name,
        **({"account": event.target.account} if event.target.account else {}),
        "region": event.region,
        "detector": event.detector,
        "reason": event.reason,
        "time": event.at.isoformat(),
        "action": headline,
        shown.prior_key: event.prior if kind is TargetKind.FUNCTION else shown.prior_text(event.prior),
        "evidence": dict(event.evidence),
        "undo": undo,
        **({"account_paused": event.pause.to_dict()} if event.pause else {}),
    }
    lines = [
        f"{shown.label + ':':<20} {event.target.name} ({_place(event.target.account, event.region)})",
        f"{'Detector:':<20} {event.detector}",
        f"{'Reason:':<20} {event.reason}",
        f"{'Time:':<20} {event.at.isoformat()}",
        f"{shown.prior_label + ':':<20} {shown.prior_text(event.prior)}",
    ]
    if kind is TargetKind.FUNCTION:
        verb = {Phase.RESTORED: "Resumed", Phase.WOULD_APPLY: "Would pause"}.get(event.phase, "Paused")
        paused_document, paused_lines = paused(verb, event.prior, event.report)
        document |= paused_document
        lines += paused_lines
    how = []
    if undo is not None:
        how = ["", f"To {undo['action']} it:", f"  {undo['guardrail_cli']}", "or", f"  {undo['aws_cli']}"]
    if event.pause is not None:
        lines.append(f"{'Account paused:':<20} {event.pause.describe()}")
        resume = account_call(
            "resume",
            event.pause.account,
            region=event.kill_switch_region,
            function=event.kill_switch_function,
        )
        how += ["", "To enforce in the account again:", f"  {resume['guardrail_cli']}"]
    attributes = {"event_type": event.event_type, kind.value: event.target.name, "detector": event.detector}
    return compose_alert(headline, document, (lines, how), event.evidence, event.error, attributes)


def render_notice(notice: Notice, *, region: str) -> Alert:
    """Render a notice (nothing was changed) as an SNS alert (fields from outside cleaned and bounded)."""
    notice = safe_notice(notice)
    region = clean(notice.region or region, MAX_REGION)
    event_type = UNVERIFIED_EVENT_TYPE if notice.doubt else NOTICE_EVENT_TYPE
    if notice.doubt:
        headline = f"UNVERIFIED signal naming {notice.subject} ({notice.detector}; nothing was changed)"
    else:
        headline = f"runaway by {notice.subject} ({notice.detector}; nothing was changed)"
    document: dict[str, Any] = {
        "event_type": event_type,
        "subject": notice.subject,
        **({"account": notice.account} if notice.account else {}),
        "region": region,
        "detector": notice.detector,
        "reason": notice.reason,
        "time": notice.observed_at.isoformat(),
        "action": headline,
        "evidence": dict(notice.evidence),
        "undo": None,
    }
    lines = [
        f"{'Subject:':<20} {notice.subject} ({_place(notice.account, region)})",
        f"{'Detector:':<20} {notice.detector}",
        f"{'Reason:':<20} {notice.reason}",
        f"{'Time:':<20} {notice.observed_at.isoformat()}",
    ]
    if notice.doubt:
        document["unverified"] = notice.doubt
        lines.append(f"{'Unverified:':<20} {notice.doubt}")
    attributes = {"event_type": event_type, "subject": notice.subject, "detector": notice.detector}
    return compose_alert(headline, document, (lines, []), notice.evidence, None, attributes)


def render_digest(digest: Digest, *, region: str) -> Alert:
    """Render a day's digest of known conditions as one SNS alert (outside fields cleaned and bounded)."""
    digest = safe_digest(digest)
    region = clean(region, MAX_REGION)
    told = sum(entry.count for entry in digest.entries)
    headline = (
        f"daily digest for {digest.day}: {len(digest.entries) + digest.more} recurring condition(s)"
        " (nothing was changed)"
    )
    document: dict[str, Any] = {
        "event_type": DIGEST_EVENT_TYPE,
        "day": digest.day,
        "region": region,
        "action": headline,
        "conditions": [
            {
                "subject": entry.subject,
                **({"account": entry.account} if entry.account else {}),
                "region": entry.region,
                "detector": entry.detector,
                "condition": entry.summary,
                "count": entry.count,
                "size_bytes": entry.size_bytes,
                "first_seen": entry.first_seen.isoformat(),
                "last_seen": entry.last_seen.isoformat(),
                "latest_reason": entry.reason,
            }
            for entry in digest.entries
        ],
        "more_conditions": digest.more,
        "undo": None,
    }
    lines = [
        f"{'Day:':<20} {digest.day} (UTC)",
        f"{'Recurrences:':<20} {told} ({len(digest.entries)} condition(s) shown)",
        "",
        *(line for entry in digest.entries for line in entry_lines(entry)),
    ]
    if digest.more:
        lines.append(f"- and {digest.more} more condition(s), not shown")
    lines += ["", _DIGEST_NOTE]
    attributes = {"event_type": DIGEST_EVENT_TYPE, "subject": f"digest {digest.day}", "detector": "digest"}
    return compose_alert(headline, document, (lines, []), {}, None, attributes)


_DIGEST_NOTE = (
    "Each condition here was alerted on its own when first seen, except a trend (steady-growth), which is "
    "told here only. Another caller, table, region or rule, or four times the size last told, is "
    "alerted on its own again."
)


def _place(account: str, region: str) -> str:
    return f"account {account}, {region}" if account else region


def compose_alert(  # noqa: PLR0917 - the parts of one message, in the order they read
    headline: str,
    document: dict[str, Any],
    sections: tuple[list[str], list[str]],
    evidence: Mapping[str, Any],
    error: str | None,
    attributes: dict[str, str],
) -> Alert:
    """The full alert, carrying its short fallback; the short one alone when the full one is too big."""
    fields, undo = sections
    body = [f"Runaway Guardrail {headline}.", "", *fields]
    if error:
        document["error"] = error
        body.append(f"{'Error:':<20} {error}")
    if evidence:
        body += ["", "Evidence (as received, quoted):", *evidence_lines(evidence)]
    brief = {key: value for key, value in document.items() if key not in _NOT_IN_SHORT} | {"short": True}
    short = _message(headline, brief, [*body[:4], "", _SHORT_NOTE, *undo], attributes)
    full = _message(headline, document, [*body, *undo], attributes)
    return replace(full, fallback=short) if full.size() <= MESSAGE_BUDGET_BYTES else short


_NOT_IN_SHORT = {"reason", "evidence", "error", "prior_reserved_concurrency", "prior_state", "conditions"}
_SHORT_NOTE = "(Short alert: the full one could not be sent. `guardrail status` shows the details.)"


def _message(headline: str, document: dict[str, Any], lines: list[str], attributes: dict[str, str]) -> Alert:
    text = "\n".join(lines) + "\n"
    return Alert(
        subject=subject_line(f"[guardrail] {headline}"),
        text=text,
        document={
            "schema_version": SCHEMA_VERSION,
            "source": "runaway-guardrail",
            **document,
            "text": text,  # the e-mail body, for chat forwarders and other machine subscribers
        },
        attributes=attributes,
    )
