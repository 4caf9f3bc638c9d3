"""AWS Chatbot's custom-notification schema (Amazon Q Developer in chat applications), as documented.

From the admin guide's "Custom notifications" page (Event schema, Parameter details): `version` must
be `1.0`, `source` must be `custom`, `content.description` is required; `textType` supports only
`client-markdown`; `nextSteps`, `keywords` and `relatedResources` are lists of strings and
`additionalContext` an object of strings. Unknown keys are refused here so that a typo fails a test.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Content(_Strict):
    textType: Literal["client-markdown"] | None = None
    title: str | None = None
    description: str
    nextSteps: list[str] | None = None
    keywords: list[str] | None = None


class Metadata(_Strict):
    threadId: str | None = None
    summary: str | None = None
    eventType: str | None = None
    relatedResources: list[str] | None = None
    additionalContext: dict[str, str] | None = None


class CustomNotification(_Strict):
    version: Literal["1.0"]
    source: Literal["custom"]
    id: str | None = None
    content: Content
    metadata: Metadata | None = None
