"""The DynamoDB codec: values and times as items write them, the update builder, cancelled transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from guardrail.adapters.aws_errors import ConditionFailed
from guardrail.adapters.dynamodb_codec import (
    Update,
    cancelled_as_failed,
    epoch,
    from_item,
    from_ms,
    hour_text,
    ms,
    parse_hour,
    parse_time,
    to_item,
)

AT = datetime(2026, 11, 28, 2, 7, 30, 250000, tzinfo=UTC)


def test_values_round_trip_as_dynamodb_types():
    item = to_item({"pk": "FUNCTION#a", "prior": 7, "gone": None, "names": {"b", "a"}, "ok": True})
    assert item["pk"] == {"S": "FUNCTION#a"}
    assert item["prior"] == {"N": "7"}
    assert item["gone"] == {"NULL": True}
    assert sorted(item["names"]["SS"]) == ["a", "b"]
    assert from_item(item) == {
        "pk": "FUNCTION#a",
        "prior": Decimal(7),
        "gone": None,
        "names": {"a", "b"},
        "ok": True,
    }


def test_times_as_items_write_them():
    assert ms(AT) == 1_795_831_650_250
    assert from_ms(Decimal(ms(AT))) == AT
    assert epoch(AT) == 1_795_831_650
    assert parse_time(AT.isoformat()) == AT
    assert parse_time("2026-11-28T02:07:30").tzinfo is UTC  # no zone written: UTC
    assert parse_time("2026-11-28T11:07:30+09:00") == AT.replace(microsecond=0)
    assert parse_time("2026-11-28T11:07:30+09:00").utcoffset() == timedelta(hours=9)  # its zone kept
    assert hour_text(AT) == "2026-11-28T02"
    assert hour_text(None) == ""
    assert parse_hour("2026-11-28T02") == AT.replace(minute=0, second=0, microsecond=0)


def test_an_update_names_every_attribute_and_value_by_placeholder():
    update = (
        Update().set("status", "throttled").set_if_absent("expires_at", 10).add("count", 1).remove("flag")
    )
    condition = f"{update.equals('status', 'applying', 'from')} AND {update.exists('moves', False)}"

    request = update.build("ledger", {"pk": "FUNCTION#a", "sk": "THROTTLE"}, condition)

    assert request == {
        "TableName": "ledger",
        "Key": {"pk": {"S": "FUNCTION#a"}, "sk": {"S": "THROTTLE"}},
        "UpdateExpression": (
            "SET #status = :status, #expires_at = if_not_exists(#expires_at, :expires_at)"
            " REMOVE #flag ADD #count :count"
        ),
        "ExpressionAttributeNames": {
            "#status": "status",
            "#expires_at": "expires_at",
            "#count": "count",
            "#flag": "flag",
            "#moves": "moves",
        },
        "ExpressionAttributeValues": {
            ":status": {"S": "throttled"},
            ":expires_at": {"N": "10"},
            ":count": {"N": "1"},
            ":from": {"S": "applying"},
        },
        "ConditionExpression": "#status = :from AND attribute_not_exists(#moves)",
    }


def test_an_update_without_values_sends_none_and_without_condition_no_condition():
    request = Update().remove("status").build("ledger", {"pk": "p", "sk": "s"})
    assert request["UpdateExpression"] == "REMOVE #status"
    assert "ExpressionAttributeValues" not in request
    assert "ConditionExpression" not in request


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


def test_a_transaction_cancelled_by_a_condition_is_a_failed_condition():
    with pytest.raises(ConditionFailed), cancelled_as_failed():
        raise cancelled("None", "ConditionalCheckFailed")


def test_a_conflict_with_another_transaction_is_no_failed_condition():
    with pytest.raises(ClientError), cancelled_as_failed():
        raise cancelled("TransactionConflict", "None")


def test_any_other_error_passes_unchanged():
    throttled = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
    )
    with pytest.raises(ClientError) as raised, cancelled_as_failed():
        raise throttled
    assert raised.value is throttled
    with pytest.raises(ClientError), cancelled_as_failed():
        raise cancelled("ValidationError")
