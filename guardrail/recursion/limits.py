"""The depth limit of the running function: the one place the guard reads its function's settings."""

from __future__ import annotations

import functools
import logging

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

#: Tag on a user's function that sets its limit (the guardrail's contract).
TAG_MAX_DEPTH = "guardrail:max-depth"
#: The same hop count at which Lambda's own recursive-loop detection stops a chain.
DEFAULT_MAX_DEPTH = 16
_LOOKUP = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


def parse_limit(value: object, source: str) -> int:
    """A depth limit: a whole number of hops, 0 or more."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{source} must be a whole number of hops (0 or more), not {value!r}")
    return value


@functools.lru_cache(maxsize=32)
def limit_from_tag(function_arn: str) -> int | None:
    """The function's `guardrail:max-depth` tag, read once per execution environment.

    Needs `lambda:ListTags` on the function itself. Any failure or malformed value is logged and
    treated as "no tag", so the default limit applies and the function keeps working.
    """
    unqualified = ":".join(function_arn.split(":")[:7])
    try:
        tags = boto3.client("lambda", config=_LOOKUP).list_tags(Resource=unqualified).get("Tags", {})
    except (BotoCoreError, ClientError) as exc:
        logger.warning("could not read the %s tag of %s: %s", TAG_MAX_DEPTH, unqualified, exc)
        return None
    if TAG_MAX_DEPTH not in tags:
        return None
    try:
        return parse_limit(tags[TAG_MAX_DEPTH], f"tag {TAG_MAX_DEPTH}")
    except ValueError as exc:
        logger.warning("%s; using the default limit of %d", exc, DEFAULT_MAX_DEPTH)
        return None
