"""How the Athena watch's decisions reach the one enforcement path: findings to act on, notices to send.

Pure: an `Action` of the detector becomes a Finding (throttle its Lambda caller, disable its
workgroup) or a Notice (a caller that is not a Lambda function, a cross-region read set to `alert`).
"""

from __future__ import annotations

from datetime import datetime

from guardrail.config.athena_watch import DETECTOR
from guardrail.detectors.athena.claims import QueryClaim
from guardrail.detectors.athena.detect import Action, Rule
from guardrail.domain import Expectation, Finding, Notice, Target


def caller_finding(
    action: Action, function: str, at: datetime, event_id: str, guard_layer: str | None = None
) -> Finding:
    """Throttle the Lambda function behind a caller's breaches, if it runs with the caller's role; once.

    `guard_layer` (a start the guard claimed): the function must also run the guard.
    """
    return Finding(
        target=Target.function(function),
        detector=DETECTOR,
        reason=action.reason,
        observed_at=at,
        evidence={"rules": action.rules, **action.evidence},
        dedupe_key=f"{DETECTOR}:{event_id}:{action.rules}",
        expect=Expectation(role_arn=action.throttle_role_arn, guard_layer=guard_layer),
    )


def claim_finding(claim: QueryClaim) -> Finding:
    """The function an `Athena Query Started` claim names, for alerting the claim as unverified."""
    return Finding(
        target=Target.function(claim.function),
        detector=DETECTOR,
        reason=f"an {claim.evidence()['signal']!r} event names {claim.function} as the caller of query "
        f"{claim.query_id}",
        observed_at=claim.at,
        evidence=claim.evidence(),
        dedupe_key=f"{DETECTOR}:claim:{claim.event_id}",
    )


def workgroup_finding(action: Action, workgroup: str, at: datetime, event_id: str) -> Finding:
    """Disable the workgroup a runaway ran in; once per event and rules."""
    return Finding(
        target=Target.workgroup(workgroup),
        detector=DETECTOR,
        reason=f"{action.subject}: {action.reason}",
        observed_at=at,
        evidence={"rules": action.rules, "subject": action.subject, **action.evidence},
        dedupe_key=f"{DETECTOR}:{event_id}:{action.rules}:workgroup",
    )


def notice(action: Action, at: datetime) -> Notice:
    """Tell people about breaches nothing is done about: once per subject and rules per hour.

    Cross-region reads alone are told once a day.
    """
    daily = all(b.rule is Rule.CROSS_REGION for b in action.breaches)
    period = f"{at:%Y-%m-%d}" if daily else f"{at:%Y-%m-%dT%H}"
    return Notice(
        subject=action.subject,
        detector=DETECTOR,
        reason=action.reason,
        observed_at=at,
        evidence={"rules": action.rules, **action.evidence},
        dedupe_key=f"{DETECTOR}:notice:{action.rules}:{action.subject}:{period}",
    )
