"""Builds boto3 clients for adapters that accept an injected client, session or config."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def client_for(
    service: str,
    *,
    boto3_client: Any = None,
    boto3_session: boto3.session.Session | None = None,
    boto_config: Config | None = None,
) -> Any:
    """Return the injected client, or build one from the session (or a default session)."""
    if boto3_client is not None:
        return boto3_client
    session = boto3_session or boto3.session.Session()
    return session.client(service, config=boto_config)
