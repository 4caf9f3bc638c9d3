import json
import logging

import pytest

from guardrail.recursion.chain import (
    CHAIN_KEY,
    Chain,
    chain_of,
    stamp_event_entry,
    stamp_invoke,
    stamp_message,
)

CARRIER = {"depth": 3, "chain_id": "c-1"}
SNS_ATTRIBUTES = {CHAIN_KEY: {"Type": "String", "Value": json.dumps(CARRIER)}}


def sqs_record(value: str) -> dict:
    return {"eventSource": "aws:sqs", "body": "x", "messageAttributes": {CHAIN_KEY: {"stringValue": value}}}


@pytest.mark.parametrize(
    "event",
    [
        {"job": 1, CHAIN_KEY: CARRIER},
        {"source": "app", "detail": {"order": 9, CHAIN_KEY: CARRIER}},
        {"Records": [sqs_record(json.dumps(CARRIER))]},
        {
            "Records": [
                {"Sns": {"MessageAttributes": {CHAIN_KEY: {"Type": "String", "Value": json.dumps(CARRIER)}}}}
            ]
        },
        {
            "Records": [
                {
                    "body": json.dumps(
                        {
                            "Type": "Notification",
                            "Message": "hi",
                            "MessageAttributes": {
                                CHAIN_KEY: {"Type": "String", "Value": json.dumps(CARRIER)}
                            },
                        }
                    )
                }
            ]
        },
    ],
    ids=["invoke", "eventbridge", "sqs", "sns", "sns-to-sqs-envelope"],
)
def test_depth_is_read_wherever_it_travels(event):
    assert chain_of(event) == Chain(3, "c-1")


def test_a_batch_is_as_deep_as_its_deepest_record():
    shallow, deep = json.dumps({"depth": 1, "chain_id": "a"}), json.dumps({"depth": 7, "chain_id": "b"})
    assert chain_of({"Records": [sqs_record(shallow), sqs_record(deep)]}) == Chain(7, "b")


@pytest.mark.parametrize("event", [{}, {"x": 1}, [1, 2], "text", None, {"Records": "nope"}])
def test_no_carrier_starts_a_fresh_chain_silently(event, caplog):
    chain = chain_of(event)
    assert chain.depth == 0 and len(chain.chain_id) == 32
    assert caplog.records == []


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        json.dumps([1]),
        {"depth": -1, "chain_id": "a"},
        {"depth": True, "chain_id": "a"},
        {"depth": "3", "chain_id": "a"},
        {"depth": 2, "chain_id": ""},
        {"depth": 2},
    ],
)
def test_malformed_depth_is_a_fresh_chain_with_a_warning(raw, caplog):
    with caplog.at_level(logging.WARNING):
        chain = chain_of({CHAIN_KEY: raw})
    assert chain.depth == 0
    assert "malformed guardrail-chain field" in caplog.text


def test_invoke_payload_gets_the_key_and_keeps_the_rest():
    params = {
        "FunctionName": "f",
        "Payload": json.dumps({"a": 1, CHAIN_KEY: {"depth": 9, "chain_id": "old"}}),
    }
    stamp_invoke(params, CARRIER)
    assert json.loads(params["Payload"]) == {"a": 1, CHAIN_KEY: CARRIER}


def test_invoke_without_payload_carries_the_chain_alone():
    params = {"FunctionName": "f"}
    stamp_invoke(params, CARRIER)
    assert json.loads(params["Payload"]) == {CHAIN_KEY: CARRIER}


@pytest.mark.parametrize("payload", [b"[1, 2]", b"\xff", "plain text"])
def test_invoke_payload_that_is_not_an_object_is_left_alone_with_a_warning(payload, caplog):
    params = {"Payload": payload}
    stamp_invoke(params, CARRIER)
    assert params["Payload"] == payload
    assert "cannot travel" in caplog.text


def test_message_attribute_is_added_beside_the_users_own():
    message = {
        "MessageBody": "b",
        "MessageAttributes": {"tenant": {"DataType": "String", "StringValue": "t"}},
    }
    stamp_message(message, CARRIER)
    assert message["MessageAttributes"]["tenant"] == {"DataType": "String", "StringValue": "t"}
    assert json.loads(message["MessageAttributes"][CHAIN_KEY]["StringValue"]) == CARRIER


def test_message_with_ten_attributes_already_cannot_carry_the_chain(caplog):
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)}
    message = {"MessageAttributes": dict(attributes)}
    stamp_message(message, CARRIER)
    assert message["MessageAttributes"] == attributes
    assert "cannot travel" in caplog.text


def test_event_detail_gets_the_key():
    entry = {"Source": "app", "DetailType": "Order", "Detail": json.dumps({"order": 9})}
    stamp_event_entry(entry, CARRIER)
    assert json.loads(entry["Detail"]) == {"order": 9, CHAIN_KEY: CARRIER}
