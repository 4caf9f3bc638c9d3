"""Alerts the Athena watch sends itself, apart from the Enforcer's.

They cover callers that are not Lambda functions, workgroups, and cross-region reads set to `alert`.
Lambda callers that must be stopped go through the Enforcer instead.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from guardrail.alerts.render import SCHEMA_VERSION, Alert
from guardrail.config.athena_watch import DETECTOR
from guardrail.detectors.athena.detect import Action, Rule
from guardrail.detectors.athena.ports import SignalClaims, WorkgroupControl
from guardrail.enforcement.ports import AlertPublisher

logger = logging.getLogger(__name__)
_TTL_SECONDS = 2 * 24 * 3600


class Notices:
    """Sends one alert per subject and rules per hour (per day for cross-region reads)."""

    def __init__(
        self, *, signals: SignalClaims, alerts: AlertPublisher, workgroups: WorkgroupControl, region: str
    ) -> None:
        self._signals = signals
        self._alerts = alerts
        self._workgroups = workgroups
        self._region = region

    def send(self, action: Action, at: datetime) -> str:
        """Alert about `action` (disabling its workgroup first, if it says so); answer what happened."""
        period = (
            f"{at:%Y-%m-%d}"
            if all(b.rule is Rule.CROSS_REGION for b in action.breaches)
            else f"{at:%Y-%m-%dT%H}"
        )
        key = f"{DETECTOR}:notice:{action.rules}:{action.subject}:{period}"
        if not self._signals.claim_signal(key, now=at, ttl_seconds=_TTL_SECONDS):
            return "already-alerted"
        result, error = "alerted", None
        if action.disable_workgroup:
            try:
                self._workgroups.disable(action.disable_workgroup)
                result = "disabled-workgroup"
            except (ClientError, BotoCoreError) as exc:
                error = f"could not disable workgroup {action.disable_workgroup}: {exc}"
                logger.error(error)
                result = "disable-failed"
        self._alerts.publish(render_notice(action, at, region=self._region, result=result, error=error))
        return result


def render_notice(action: Action, at: datetime, *, region: str, result: str, error: str | None) -> Alert:
    """Render an Athena watch alert: readable text for e-mail and a JSON document for machines."""
    headline = {
        "alerted": f"Athena runaway by {action.subject}",
        "disabled-workgroup": f"disabled Athena workgroup {action.disable_workgroup} ({action.subject})",
        "disable-failed": f"FAILED to disable Athena workgroup {action.disable_workgroup}",
    }[result]
    undo = None
    if result == "disabled-workgroup":
        undo = (
            f"aws athena update-work-group --region {region} "
            f"--work-group {action.disable_workgroup} --state ENABLED"
        )
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "source": "runaway-guardrail",
        "event_type": f"athena-{result}",
        "subject": action.subject,
        "region": region,
        "detector": DETECTOR,
        "rules": [b.rule.value for b in action.breaches],
        "reason": action.reason,
        "time": at.isoformat(),
        "action": headline,
        "evidence": dict(action.evidence),
        "undo": undo,
    }
    if error:
        document["error"] = error
    lines = [
        f"Runaway Guardrail: {headline}.",
        "",
        f"Caller:    {action.subject} ({region})",
        f"Detector:  {DETECTOR}",
        f"Reason:    {action.reason}",
        f"Time:      {at.isoformat()}",
    ]
    if error:
        lines.append(f"Error:     {error}")
    lines += ["", "Evidence:"]
    lines += [f"  {k}: {json.dumps(v, default=str)}" for k, v in sorted(action.evidence.items())]
    if undo:
        lines += ["", "To enable the workgroup again:", f"  {undo}"]
    subject = f"[guardrail] {headline}"
    return Alert(
        subject=subject if len(subject) <= 100 else subject[:97] + "...",
        text="\n".join(lines) + "\n",
        document=document,
        attributes={"event_type": document["event_type"], "function": action.subject, "detector": DETECTOR},
    )
