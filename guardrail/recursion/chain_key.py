"""The chain key: what guarded functions sign their chain context with, so nobody outside can write a depth.

The key is a Secrets Manager secret the guardrail's stack creates; `guard(fn)` grants the function
`secretsmanager:GetSecretValue` on it and names it in `GUARDRAIL_CHAIN_SECRET`. The guard reads the
secret's `AWSCURRENT` version (it signs with it) and its `AWSPREVIOUS` version (still accepted, so a
rotation breaks no chain) once per execution environment: two API calls per cold start. A signature
that neither key verifies makes it read the secret again, at most once every five minutes, in case the
secret was rotated since.

Without `GUARDRAIL_CHAIN_SECRET` (a function given the layer by hand), or when the secret cannot be
read, the guard has no key: it trusts the depth it receives, as before, and says so in its refusals
(`unsigned_depth`), which the watch then alerts on and never acts on (docs/trust-model.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

#: Names the chain key's secret (its ARN; the stack sets it on every function `guard(fn)` is given).
CHAIN_SECRET_ENV = "GUARDRAIL_CHAIN_SECRET"  # noqa: S105 - the variable's name, not a secret
#: How long a chain context stays valid after it was written: the longest an event waits for Lambda
#: (EventBridge retries for up to 24 h; Lambda's async queue keeps an event 6 h). Older: a new chain.
MAX_AGE_SECONDS = 24 * 3600
#: Clocks of two execution environments may differ a little; a context from further ahead is refused.
MAX_SKEW_SECONDS = 300
#: A signature no key verifies makes the guard read the secret again, at most this often.
REREAD_SECONDS = 300
_STAGES = ("AWSCURRENT", "AWSPREVIOUS")
_LOOKUP = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})

KeyReader = Callable[[str], list[bytes]]


def read_secret(secret_id: str) -> list[bytes]:
    """The secret's current key, then its previous one when there is one (in the secret's own region)."""
    parts = secret_id.split(":")
    region = parts[3] if secret_id.startswith("arn:") and len(parts) > 3 else None
    client = boto3.client("secretsmanager", region_name=region, config=_LOOKUP)
    keys = []
    for stage in _STAGES:
        try:
            value = client.get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"]
        except ClientError as exc:
            missing = exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
            if missing and stage != "AWSCURRENT":
                break  # never rotated: no previous version
            raise
        keys.append(str(value).encode())
    return keys


class Keyring:
    """The chain key's current and previous versions, read once per execution environment."""

    def __init__(
        self, secret_id: str, *, reader: KeyReader = read_secret, clock: Callable[[], float] = time.time
    ) -> None:
        self.secret_id = secret_id
        self._reader = reader
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: list[bytes] = []
        self._read_at: float | None = None

    def sign(self, message: bytes) -> str | None:
        """The signature of `message` with the current key; None when the key cannot be read."""
        keys = self._current_keys()
        return _signature(keys[0], message) if keys else None

    def verifies(self, message: bytes, signature: str) -> bool:
        """Whether the current or the previous key signed `message` (the secret is read again if stale)."""
        if any(hmac.compare_digest(_signature(key, message), signature) for key in self._current_keys()):
            return True
        if self._stale():
            keys = self._read()
            return any(hmac.compare_digest(_signature(key, message), signature) for key in keys)
        return False

    @property
    def available(self) -> bool:
        """Whether the guard has a key to sign and verify with."""
        return bool(self._current_keys())

    def now(self) -> float:
        """The time signatures are checked against (seconds since the epoch)."""
        return self._clock()

    def _current_keys(self) -> list[bytes]:
        if self._read_at is None or (not self._keys and self._stale()):
            return self._read()
        return self._keys

    def _stale(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= REREAD_SECONDS

    def _read(self) -> list[bytes]:
        with self._lock:
            self._read_at = self._clock()
            try:
                self._keys = [key for key in self._reader(self.secret_id) if key]
            except (BotoCoreError, ClientError, KeyError) as exc:
                logger.error(
                    "could not read the chain key %s: %s; incoming chain depths cannot be verified and"
                    " this function's refusals will be alerted as unverified, not acted on",
                    self.secret_id,
                    exc,
                )
                self._keys = []
            return self._keys


def _signature(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


_keyrings: dict[str, Keyring] = {}


def keyring(env: Any = None) -> Keyring | None:
    """The keyring of this execution environment, or None when no chain key is configured."""
    secret_id = (os.environ if env is None else env).get(CHAIN_SECRET_ENV, "").strip()
    if not secret_id:
        return None
    if secret_id not in _keyrings:
        _keyrings[secret_id] = Keyring(secret_id)
    return _keyrings[secret_id]


def forget_keys() -> None:
    """Drop every keyring read so far (a new execution environment; for tests)."""
    _keyrings.clear()
