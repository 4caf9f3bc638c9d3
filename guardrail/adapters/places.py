"""boto3 sessions by account and region, and one adapter per place built from them.

The guardrail's own account is reached with its functions' own credentials, in any watched region;
a member account (organization mode) only through that account's enforcement role, assumed with STS.
A role that cannot be assumed (deleted, its trust changed, an account outside the organization) fails
that account's calls with `AwsCallFailed` (`MemberRoleUnavailable`) and no other's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import boto3

from guardrail.adapters.aws_errors import translated
from guardrail.domain import Target
from guardrail.errors import AwsCallFailed
from guardrail.scope import Scope

T = TypeVar("T")
SESSION_NAME = "runaway-guardrail"
#: Credentials this close to expiring are renewed before use.
_RENEW_BEFORE = timedelta(minutes=5)


class Sessions:
    """A boto3 session for any (account, region) the guardrail may act in."""

    def __init__(
        self,
        home: Scope,
        role_name: str,
        *,
        base: boto3.session.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.home = home
        self._role_name = role_name
        self._base = base or boto3.session.Session(region_name=home.region)
        self._clock = clock
        self._assumed: dict[str, tuple[dict[str, str], datetime]] = {}
        self._made: dict[tuple[str, str], tuple[str, boto3.session.Session]] = {}
        self._lock = threading.Lock()

    def session(self, account: str, region: str) -> boto3.session.Session:
        """A session acting in `account` and `region` (blank: the home's).

        The same session while its credentials hold; a new one once a member's are renewed.
        """
        account, region = account or self.home.account, region or self.home.region
        if not self.home.admits(account=account, region=region):
            raise AwsCallFailed("NotWatched", f"account {account}, region {region} is outside {self.home}")
        if account == self.home.account and region == self._base.region_name:
            return self._base
        credentials = self._own_credentials() if account == self.home.account else self._credentials(account)
        with self._lock:
            held = self._made.get((account, region))
            if held is not None and held[0] == credentials["aws_access_key_id"]:
                return held[1]
        made = boto3.session.Session(region_name=region, **credentials)
        with self._lock:
            self._made[(account, region)] = (credentials["aws_access_key_id"], made)
        return made

    def _own_credentials(self) -> dict[str, str]:
        credentials = self._base.get_credentials()
        if credentials is None:
            raise AwsCallFailed("NoCredentials", "the guardrail has no AWS credentials")
        frozen = credentials.get_frozen_credentials()
        return {
            "aws_access_key_id": frozen.access_key,
            "aws_secret_access_key": frozen.secret_key,
            "aws_session_token": frozen.token,
        }

    def role_arn(self, account: str) -> str:
        """The enforcement role of a member account."""
        return f"arn:{self.home.partition}:iam::{account}:role/{self._role_name}"

    def _credentials(self, account: str) -> dict[str, str]:
        with self._lock:
            held = self._assumed.get(account)
            if held and held[1] - _RENEW_BEFORE > self._clock():
                return held[0]
        arn = self.role_arn(account)
        try:
            with translated("AssumeRole"):
                answer = self._base.client("sts").assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)
        except AwsCallFailed as exc:
            raise AwsCallFailed(
                "MemberRoleUnavailable",
                f"account {account}: cannot assume {arn} ({exc}); is the member stack deployed there?",
                operation="AssumeRole",
            ) from exc
        given = answer["Credentials"]
        credentials = {
            "aws_access_key_id": given["AccessKeyId"],
            "aws_secret_access_key": given["SecretAccessKey"],
            "aws_session_token": given["SessionToken"],
        }
        with self._lock:
            self._assumed[account] = (credentials, given["Expiration"])
        return credentials


class PerPlace(Generic[T]):
    """One adapter per (account, region), built from that place's session, again when the session is new."""

    def __init__(self, sessions: Sessions, build: Callable[[boto3.session.Session], T]) -> None:
        self._sessions = sessions
        self._build = build
        self._built: dict[tuple[str, str], tuple[boto3.session.Session, T]] = {}
        self._lock = threading.Lock()

    def at(self, account: str, region: str) -> T:
        """The adapter acting in `account` and `region` (blank: the home's)."""
        key = (account or self._sessions.home.account, region or self._sessions.home.region)
        session = self._sessions.session(*key)
        with self._lock:
            held = self._built.get(key)
            if held is not None and held[0] is session:
                return held[1]
        adapter = self._build(session)
        with self._lock:
            self._built[key] = (session, adapter)
        return adapter

    def __call__(self, target: Target) -> T:
        """The adapter acting where `target` is."""
        return self.at(target.account, target.region)
