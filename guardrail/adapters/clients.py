"""One way for every adapter to get its boto3 client.

Modelled on powertools' `DynamoDBPersistenceLayer.__init__`: an adapter accepts `boto3_client`,
`boto3_session` and `boto_config`, and builds a client only when none is injected. A subclass of
`AwsAdapter` names its service and, where it wants one, its retry policy; nothing else:

    class AthenaQueries(AwsAdapter["AthenaClient"]):
        SERVICE = "athena"
        RETRIES = adaptive_retries(5)

An adapter with its own arguments takes the three options through `**clients: Unpack[ClientOptions[...]]`
and passes them on to `super().__init__`. What an adapter lets escape is a domain error: it wraps its
calls in `guardrail.adapters.aws_errors.translated(...)` (a `with` block or a method decorator).
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypedDict, TypeVar

import boto3
from botocore.config import Config

from guardrail.adapters.permissions import Grant

ClientT = TypeVar("ClientT")


def adaptive_retries(max_attempts: int) -> Config:
    """Adaptive retries (botocore's client-side rate limiting): up to `max_attempts` retries of a call."""
    return Config(retries={"max_attempts": max_attempts, "mode": "adaptive"})


class ClientOptions(TypedDict, Generic[ClientT], total=False):
    """How an adapter gets its client: injected, or built from a session and a botocore config."""

    boto3_client: ClientT | None
    boto3_session: boto3.session.Session | None
    boto_config: Config | None


class AwsAdapter(Generic[ClientT]):
    """Base of the adapters over one AWS API: builds `self._client` only when none is injected.

    `boto_config` is merged over the class's `RETRIES`, so a caller's timeouts keep its retry policy.
    """

    #: The boto3 service name (`dynamodb`, `athena`, ...).
    SERVICE: ClassVar[str]
    #: The adapter's retry policy; None keeps botocore's default.
    RETRIES: ClassVar[Config | None] = None
    #: IAM actions the adapter calls, each on its kind of resource; the stacks' policies are built from them.
    PERMISSIONS: ClassVar[tuple[Grant, ...]]

    def __init__(
        self,
        *,
        boto3_client: ClientT | None = None,
        boto3_session: boto3.session.Session | None = None,
        boto_config: Config | None = None,
    ) -> None:
        self._session = boto3_session
        self._config = boto_config
        self._client: ClientT = boto3_client if boto3_client is not None else self._build(self.SERVICE)

    def _build(self, service: str) -> Any:
        """A client for `service` from the injected session and config (also for a second service)."""
        config = self._config
        if self.RETRIES is not None:
            config = self.RETRIES if config is None else self.RETRIES.merge(config)
        return (self._session or boto3.session.Session()).client(service, config=config)
