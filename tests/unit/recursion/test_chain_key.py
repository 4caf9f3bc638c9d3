"""Signed chain contexts: only a carrier the chain key verifies, written less than a day ago, counts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from guardrail.recursion.chain import CHAIN_KEY, UNVERIFIED_METRIC, Chain, chain_of
from guardrail.recursion.chain_key import MAX_AGE_SECONDS, MAX_SKEW_SECONDS, REREAD_SECONDS, Keyring

NOW = 1_800_000_000.0


class Secret:
    """A stand-in for the secret's versions: `keys[0]` is AWSCURRENT, `keys[1]` AWSPREVIOUS."""

    def __init__(self, *keys: bytes) -> None:
        self.keys = list(keys)
        self.reads = 0

    def __call__(self, secret_id: str) -> list[bytes]:
        self.reads += 1
        return list(self.keys)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def keyring(secret: Secret, clock: Clock | None = None) -> Keyring:
    return Keyring(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:chain-key",
        reader=secret,
        clock=clock or Clock(),
    )


def carrier_from(upstream: Chain, keys: Keyring) -> dict:
    return {CHAIN_KEY: upstream.carrier(keys)}


def test_a_signed_carrier_carries_its_depth_on_and_the_secret_is_read_once():
    secret = Secret(b"k1")
    keys = keyring(secret)
    event = carrier_from(Chain(6, "c-1", "nightly-batch"), keys)

    chain = chain_of(event, keys, function="nightly-batch")

    assert chain == Chain(7, "c-1", "nightly-batch", verified=True)
    assert chain_of(event, keys, function="nightly-batch") == chain
    assert secret.reads == 1


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        ({"depth": 99}, "badly signed"),
        ({"chain_id": "other"}, "badly signed"),
        ({"origin": "someone-else"}, "badly signed"),
        ({"issued": int(NOW) + 1}, "badly signed"),
        ({"sig": None}, "unsigned"),
    ],
)
def test_a_carrier_changed_after_signing_starts_a_new_chain_and_is_reported(change, reported, caplog, capsys):
    keys = keyring(Secret(b"k1"))
    carrier = {**Chain(6, "c-1", "nightly-batch").carrier(keys), **change}
    carrier = {name: value for name, value in carrier.items() if value is not None}

    chain = chain_of({CHAIN_KEY: carrier}, keys, function="worker")

    assert (chain.depth, chain.origin, chain.verified) == (0, "worker", True)
    assert chain.chain_id not in {"c-1", "other"}
    assert reported in caplog.text and "worker" in caplog.text
    [metric] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert metric["FunctionName"] == "worker" and metric[UNVERIFIED_METRIC] == 1


def test_a_carrier_signed_with_another_key_is_badly_signed():
    forger = keyring(Secret(b"not-the-key"))
    event = carrier_from(Chain(98, "c-1"), forger)

    chain = chain_of(event, keyring(Secret(b"k1")), function="worker")

    assert chain.depth == 0


@pytest.mark.parametrize(
    ("age", "counts"),
    [
        (0, True),
        (MAX_AGE_SECONDS - 1, True),
        (MAX_AGE_SECONDS + 1, False),
        (-MAX_SKEW_SECONDS + 1, True),
        (-MAX_SKEW_SECONDS - 1, False),
    ],
)
def test_a_carrier_counts_for_a_day_after_it_was_written(age, counts):
    clock = Clock()
    keys = keyring(Secret(b"k1"), clock)
    event = carrier_from(Chain(4, "c-1"), keys)
    clock.now = NOW + age

    assert chain_of(event, keys).depth == (5 if counts else 0)


def test_after_a_rotation_carriers_signed_with_the_previous_key_still_count():
    before = keyring(Secret(b"k1"))  # an environment that started before the rotation
    after = keyring(Secret(b"k2", b"k1"))  # one that started after: AWSCURRENT k2, AWSPREVIOUS k1

    assert chain_of(carrier_from(Chain(4, "c-1"), before), after).depth == 5
    assert chain_of(carrier_from(Chain(4, "c-1"), after), after).depth == 5


def test_an_environment_holding_the_old_key_reads_the_secret_again_at_most_every_five_minutes():
    clock, secret = Clock(), Secret(b"k1")
    old = keyring(secret, clock)
    assert old.available
    secret.keys = [b"k2", b"k1"]  # rotated
    newer = carrier_from(Chain(4, "c-1"), keyring(Secret(b"k2", b"k1")))

    assert chain_of(newer, old).depth == 0  # read less than five minutes ago: not read again
    clock.now += REREAD_SECONDS
    assert chain_of(newer, old).depth == 5  # read again, and the new key verifies it
    assert secret.reads == 2
    forged = carrier_from(Chain(98, "c-2"), keyring(Secret(b"forger")))
    for _ in range(5):
        assert chain_of(forged, old).depth == 0
    assert secret.reads == 2  # forgeries cost no more reads than that


def test_a_key_that_cannot_be_read_leaves_the_guard_without_one(caplog):
    def denied(secret_id: str) -> list[bytes]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")

    keys = Keyring("chain-key", reader=denied, clock=Clock())

    assert not keys.available
    assert keys.sign(b"x") is None
    assert "could not read the chain key chain-key" in caplog.text
    assert "sig" not in Chain(1, "c-1").carrier(keys)


def test_without_a_key_a_depth_is_taken_on_trust_and_marked_so():
    chain = chain_of({CHAIN_KEY: {"depth": 3, "chain_id": "c-1"}}, None, function="worker")

    assert chain == Chain(3, "c-1", verified=False)
