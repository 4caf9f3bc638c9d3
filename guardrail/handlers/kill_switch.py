"""Kill-switch Lambda handler: invoked by hand (or by the `guardrail` command) with one JSON request."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from guardrail.config import Settings
from guardrail.enforcement.enforcer import utc_now
from guardrail.handlers import observability as obs
from guardrail.handlers.composition import build_account_switch, build_audit, build_enforcer
from guardrail.kill_switch import KillSwitch, parse_request
from guardrail.kill_switch.history import answer_history
from guardrail.kill_switch.requests import HistoryRequest, InvalidRequest
from guardrail.kill_switch.service import DETECTOR

logger = obs.function_logger()


@logger.inject_lambda_context(log_event=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Validate the request, carry it out, answer one JSON object."""
    try:
        settings = Settings.from_env()
        request = parse_request(event, scope=settings.home)
    except InvalidRequest as exc:
        logger.warning("rejected kill-switch request", extra={"error": str(exc)})
        return {"ok": False, "error": {"type": "InvalidRequest", "message": str(exc)}}
    if isinstance(request, HistoryRequest):  # reads the audit trail, acts on nothing
        return answer_history(request, build_audit(settings))
    enforcer, functions = build_enforcer(settings)
    accounts = build_account_switch(settings)
    response = KillSwitch(
        enforcer=enforcer, functions=functions.at, scope=settings.home, clock=utc_now, accounts=accounts
    ).handle(request)
    logger.info("kill-switch request done", extra={"action": request.action, "results": response["results"]})
    if request.action != "status":  # status acts on nothing
        detector = f"{DETECTOR}:panic" if request.action == "panic" else DETECTOR
        obs.count_outcomes(obs.KILL_SWITCH, [(detector, r["result"]) for r in response["results"]])
    return response
