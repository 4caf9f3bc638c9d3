"""The ledger adapter against moto: key and index access, never Scan; items of the release before."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from guardrail.adapters.ledger import ACTIVE_INDEX, Ledger
from guardrail.adapters.ledger.records import record_item
from guardrail.adapters.ledger.table import TargetKeys
from guardrail.domain import ActionRecord, AuditEntry, Result, Status, Target
from guardrail.errors import AwsCallFailed
from tests.conftest import offline_client

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
BATCH = Target.function("nightly-batch")


def legacy_item(name: str, status: str, *, prior: int | None, restored: bool = False) -> dict:
    """A record as the release before wrote it: functions only, prior as had_reservation/prior_reservation."""
    item = {
        "pk": {"S": f"FUNCTION#{name}"},
        "sk": {"S": "THROTTLE"},
        "function": {"S": name},
        "status": {"S": status},
        "had_reservation": {"BOOL": prior is not None},
        "throttle_id": {"S": f"id-{name}"},
        "throttled_at": {"S": T0.isoformat()},
        "throttled_ms": {"N": str(int(T0.timestamp() * 1000))},
        "detector": {"S": "athena-watch"},
        "reason": {"S": "loop"},
        "evidence": {"S": '{"queries": 412}'},
    }
    if prior is not None:
        item["prior_reservation"] = {"N": str(prior)}
    if restored:
        item |= {"restored_at": {"S": T0.isoformat()}, "restored_ms": {"N": "1"}}
    return item


@pytest.fixture
def no_scan(deployed):
    def refuse(**_kwargs):
        raise AssertionError("the ledger must not Scan the table")

    deployed.session.events.register("before-call.dynamodb.Scan", refuse)
    return Ledger(deployed.settings.ledger_table, boto3_session=deployed.session)


def test_items_of_the_release_before_are_read_in_place_and_restored_exactly(deployed, make_function, no_scan):
    make_function("nightly-batch", reserved=0)
    make_function("old-and-restored")
    client = deployed.session.client("dynamodb")
    table = deployed.settings.ledger_table
    client.put_item(TableName=table, Item=legacy_item("nightly-batch", "throttled", prior=7))
    client.put_item(
        TableName=table, Item=legacy_item("old-and-restored", "restored", prior=None, restored=True)
    )

    [record] = no_scan.active()
    assert (record.target, record.status, record.prior) == (BATCH, Status.ENFORCED, 7)
    assert record.evidence == {"queries": 412}
    assert no_scan.get(Target.function("old-and-restored")).status is Status.RESTORED

    outcome = deployed.enforcer().restore(BATCH)

    assert (outcome.result, outcome.prior) == (Result.RESTORED, 7)
    assert deployed.reservation("nightly-batch") == 7
    assert no_scan.active() == []


def test_a_restored_record_leaves_the_sparse_index(deployed, make_function, no_scan):
    make_function("nightly-batch", reserved=3)
    record = ActionRecord(BATCH, Status.APPLYING, 3, "id-1", T0, "athena-watch", "loop")
    assert no_scan.claim(record, replacing=None) is None
    assert [(r.target, r.status) for r in no_scan.active()] == [(BATCH, Status.APPLYING)]
    assert no_scan.transition(record, Status.ENFORCED, T0)
    assert not no_scan.transition(record, Status.ENFORCED, T0)  # no longer applying as read
    enforced = replace(record, status=Status.ENFORCED, changed_at=T0, moves=1)

    assert no_scan.transition(enforced, Status.RESTORED, T0)

    item = deployed.session.client("dynamodb").get_item(
        TableName=deployed.settings.ledger_table,
        Key={"pk": {"S": "FUNCTION#nightly-batch"}, "sk": {"S": "THROTTLE"}},
    )["Item"]
    assert "status" not in item
    assert no_scan.active() == []
    assert no_scan.get(BATCH).status is Status.RESTORED
    again = replace(record, record_id="id-2")
    assert no_scan.claim(again, replacing="id-0") is not None  # not the restored record it read
    assert no_scan.claim(again, replacing="id-1") is None
    assert no_scan.get(BATCH).prior == 3


def test_audit_trail_is_the_targets_partition_only_oldest_first(deployed, no_scan):
    primary = Target.workgroup("primary")
    for minute, target in [(3, BATCH), (1, BATCH), (2, primary)]:
        at = T0.replace(minute=minute)
        no_scan.append_audit(AuditEntry(target, "throttle", "throttled", at, "d", "r"))

    trail = no_scan.audit_trail(BATCH)

    assert [(e.target, e.at.minute) for e in trail] == [(BATCH, 1), (BATCH, 3)]
    assert [e.target for e in no_scan.audit_trail(primary)] == [primary]


def test_active_follows_every_page_of_the_index():
    """moto answers in one page, so the pages are stubbed."""
    client = offline_client("dynamodb")
    first = record_item(ActionRecord(BATCH, Status.ENFORCED, 7, "a", T0, "d", "r"), TargetKeys())
    second = record_item(
        ActionRecord(Target.workgroup("primary"), Status.ENFORCED, "ENABLED", "b", T0, "d", "r"), TargetKeys()
    )
    query = {
        "TableName": "ledger",
        "IndexName": ACTIVE_INDEX,
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "status"},
    }
    with Stubber(client) as stub:
        page_key = {
            "pk": first["pk"],
            "sk": first["sk"],
            "status": first["status"],
            "throttled_at": first["throttled_at"],
        }
        stub.add_response(
            "query", {"Items": []}, {**query, "ExpressionAttributeValues": {":s": {"S": "applying"}}}
        )
        stub.add_response(
            "query",
            {"Items": [first], "LastEvaluatedKey": page_key},
            {**query, "ExpressionAttributeValues": {":s": {"S": "throttled"}}},
        )
        stub.add_response(
            "query",
            {"Items": [second]},
            {**query, "ExpressionAttributeValues": {":s": {"S": "throttled"}}, "ExclusiveStartKey": page_key},
        )
        for status in ("flagged", "restoring"):
            stub.add_response(
                "query", {"Items": []}, {**query, "ExpressionAttributeValues": {":s": {"S": status}}}
            )

        records = Ledger("ledger", boto3_client=client).active()
        stub.assert_no_pending_responses()

    assert [r.target for r in records] == [BATCH, Target.workgroup("primary")]  # same time: by target
    assert [r.prior for r in records] == [7, "ENABLED"]


def test_aws_errors_surface_as_aws_call_failed(deployed):
    missing = Ledger("no-such-table", boto3_session=deployed.session)

    with pytest.raises(AwsCallFailed, match="ResourceNotFoundException") as failure:
        missing.get(BATCH)
    assert failure.value.operation == "GetItem"
    with pytest.raises(AwsCallFailed):
        missing.active()
