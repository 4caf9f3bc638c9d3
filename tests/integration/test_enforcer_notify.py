"""Enforcer.notify against moto: a notice that was not sent never silences its period."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from guardrail.domain import Notice, Result

KEY = "athena-watch:notice:query-rate:arn:aws:iam::123456789012:user/alice:2026-11-28T02"


def a_notice(deployed) -> Notice:
    return Notice(
        subject="arn:aws:iam::123456789012:user/alice",
        detector="athena-watch",
        reason="61 queries in 5 min (limit 60)",
        observed_at=deployed.clock(),
        evidence={"rules": "query-rate"},
        dedupe_key=KEY,
    )


def fail_sends(deployed, *errors: Exception) -> None:
    """SNS Publish fails once per error given (a before-call hook on the moto session), then works."""
    failures = list(errors)

    def hook(**_kwargs):
        if failures:
            raise failures.pop()

    deployed.session.events.register("before-call.sns.Publish", hook)


def test_an_sns_failure_releases_the_notice_so_the_next_event_alerts(deployed):
    down = ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")
    fail_sends(deployed, down, down)  # the full alert, then its short fallback
    enforcer = deployed.enforcer()

    assert enforcer.notify(a_notice(deployed)) is Result.ERROR
    assert deployed.alerts() == []
    assert enforcer.notify(a_notice(deployed)) is Result.ALERTED  # the next event of the hour
    assert enforcer.notify(a_notice(deployed)) is Result.ALREADY_ALERTED
    [alert] = deployed.alerts()
    assert alert["Document"]["event_type"] == "alerted"


def test_an_unexpected_failure_is_raised_and_releases_the_notice_too(deployed):
    fail_sends(deployed, RuntimeError("the client broke"))
    enforcer = deployed.enforcer()

    with pytest.raises(RuntimeError, match="the client broke"):
        enforcer.notify(a_notice(deployed))
    assert enforcer.notify(a_notice(deployed)) is Result.ALERTED
    assert len(deployed.alerts()) == 1
