"""Every AWS call the adapters make is declared in their PERMISSIONS, from which IAM is built."""

from __future__ import annotations

from botocore.exceptions import ClientError

from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.domain import Finding, Result

_IAM_PREFIX = {"Lambda": "lambda", "DynamoDB": "dynamodb", "SNS": "sns"}


def test_enforcement_calls_only_declared_actions(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    make_function("spare")
    called: set[str] = set()

    def record(model, **_kwargs):
        called.add(f"{_IAM_PREFIX[model.service_model.service_id]}:{model.name}")

    deployed.session.events.register("before-call.*.*", record)
    enforcer = deployed.enforcer()
    assert (
        enforcer.throttle(Finding("nightly-batch", "t", "r", deployed.clock(), {}, "k")).result
        is Result.THROTTLED
    )
    enforcer.throttle(Finding("nightly-batch", "t", "r", deployed.clock(), {}, "k"))
    enforcer.throttle(Finding("spare", "t", "r", deployed.clock()))
    enforcer.active()
    enforcer.restore("nightly-batch")
    enforcer.restore("spare")

    def fail(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ServiceException", "Message": "down"}}, "PutFunctionConcurrency"
        )

    deployed.session.events.register("before-call.lambda.PutFunctionConcurrency", fail)
    assert enforcer.throttle(Finding("spare", "t", "r", deployed.clock(), {}, "k2")).result is Result.ERROR
    list(LambdaControl(boto3_session=deployed.session).function_names())

    declared = set(LambdaControl.PERMISSIONS) | set(Ledger.PERMISSIONS) | set(SnsAlerts.PERMISSIONS)
    assert called <= declared, f"undeclared: {sorted(called - declared)}"
    assert declared - called == set(), f"declared but never exercised here: {sorted(declared - called)}"
