"""Checks on a whole invocation payload, before any field of it is read."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import Field

#: Text that may end up in a DynamoDB key (at most 2 KB): printable ASCII, as ARNs and ids are, up to 1 KB.
KeyText = Annotated[str, Field(max_length=1024, pattern=r"^[ -~]*$")]


class EventBridgeEvent(EventBridgeModel):
    """powertools' EventBridge event, with its id bounded: EventBridge sends a UUID, and ids key records."""

    id: str = Field(min_length=1, max_length=128)


def invalid_unicode(payload: Any) -> str | None:
    r"""Why `payload` cannot be stored or sent on (a string with a lone UTF-16 surrogate), or None.

    JSON may spell one (`"\ud800"`) and Python decodes it, but it has no UTF-8 form: DynamoDB, SNS
    and the logs would each fail on it halfway through an action.
    """
    try:
        json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"the payload is not valid Unicode: {exc.reason} ({exc.object[exc.start : exc.end]!r})"
    return None
