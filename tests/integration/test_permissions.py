"""Every AWS call enforcement makes is declared by the adapters behind the actions, and granted from there.

Athena's workgroup calls go through botocore's Stubber (moto cannot update a workgroup); the calls
are recorded on the clients all the same.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from guardrail.adapters.athena_workgroups import AthenaWorkgroups
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import Ledger
from guardrail.adapters.permissions import Resource, actions_of, merged
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.domain import Finding, Result, Target
from guardrail.enforcement import ACTIONS
from guardrail.enforcement.actions import DisableWorkgroup, ThrottleFunction

_IAM_PREFIX = {"Lambda": "lambda", "DynamoDB": "dynamodb", "SNS": "sns", "Athena": "athena"}
ADAPTERS = {ThrottleFunction: (LambdaControl, EventSources), DisableWorkgroup: (AthenaWorkgroups,)}


def test_the_adapters_behind_every_action_declare_what_it_needs_on_its_kind_of_target():
    assert set(ACTIONS.values()) == set(ADAPTERS)
    for action, adapters in ADAPTERS.items():
        declared = merged(*(adapter.PERMISSIONS for adapter in adapters))
        on_target = declared.get(Resource(action.kind.value))
        assert on_target, f"{action.__name__}'s adapters declare nothing on a {action.kind.value}"
        enforcing = [g for adapter in adapters for g in adapter.PERMISSIONS if g.enforces]
        assert {g.resource for g in enforcing} >= {Resource(action.kind.value)}, action.__name__
    assert "dynamodb:Scan" not in actions_of(Ledger.PERMISSIONS)


def test_enforcement_calls_only_declared_actions(deployed, make_function, workgroups):
    make_function("nightly-batch", reserved=7)
    make_function("spare")
    sqs = deployed.session.client("sqs")
    orders = sqs.create_queue(QueueName="orders")["QueueUrl"]
    orders_arn = sqs.get_queue_attributes(QueueUrl=orders, AttributeNames=["QueueArn"])["Attributes"]
    deployed.session.client("lambda").create_event_source_mapping(
        EventSourceArn=orders_arn["QueueArn"], FunctionName="nightly-batch"
    )  # so that the throttle pauses it and the restore resumes it
    called: set[str] = set()

    def record(model, **_kwargs):
        if model.name == "TransactWriteItems":  # IAM authorizes each item: an update and a put
            called.update({"dynamodb:UpdateItem", "dynamodb:PutItem"})
            return
        called.add(f"{_IAM_PREFIX[model.service_model.service_id]}:{model.name}")

    deployed.session.events.register("before-call.*.*", record)
    workgroups.client.meta.events.register(
        "before-parameter-build.*.*", record
    )  # the Stubber answers before-call
    enforcer = deployed.enforcer()
    function, spare, primary = (
        Target.function("nightly-batch"),
        Target.function("spare"),
        Target.workgroup("primary"),
    )
    assert enforcer.enforce(Finding(function, "t", "r", deployed.clock(), {}, "k")).result is Result.THROTTLED
    enforcer.enforce(Finding(function, "t", "r", deployed.clock(), {}, "k"))
    enforcer.enforce(Finding(spare, "t", "r", deployed.clock()))
    workgroups.expect_disable("primary")
    enforcer.enforce(Finding(primary, "t", "r", deployed.clock()))
    enforcer.active()
    Ledger(
        deployed.settings.ledger_table, home=deployed.settings.home, boto3_session=deployed.session
    ).audit_trail(primary)
    enforcer.restore(function)
    enforcer.restore(spare)
    workgroups.expect_restore("primary", "ENABLED")
    enforcer.restore(primary)

    def fail(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ServiceException", "Message": "down"}}, "PutFunctionConcurrency"
        )

    deployed.session.events.register("before-call.lambda.PutFunctionConcurrency", fail)
    enforcer = deployed.enforcer()  # its clients get the hook
    assert enforcer.enforce(Finding(spare, "t", "r", deployed.clock(), {}, "k2")).result is Result.ERROR
    list(LambdaControl(boto3_session=deployed.session).function_names())

    declared = actions_of(
        *(adapter.PERMISSIONS for adapters in ADAPTERS.values() for adapter in adapters),
        LambdaControl.PERMISSIONS,
        Ledger.PERMISSIONS,
        SnsAlerts.PERMISSIONS,
    )
    assert called <= declared, f"undeclared: {sorted(called - declared)}"
    assert declared - called == set(), f"declared but never exercised here: {sorted(declared - called)}"
