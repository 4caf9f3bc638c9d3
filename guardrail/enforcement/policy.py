"""Pure decision: may this function be throttled, and how."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from guardrail.domain import FunctionFacts
from guardrail.functions import COMPONENT_VALUE, TAG_COMPONENT, TAG_EXEMPT


class Decision(StrEnum):
    """What enforcement should do with a finding."""

    THROTTLE = "throttle"
    NOTIFY_ONLY = "notify-only"
    EXEMPT_BY_TAG = "exempt-by-tag"
    EXEMPT_BY_NAME = "exempt-by-name"
    GUARDRAIL_OWN = "guardrail-own"

    @property
    def exempt(self) -> bool:
        """True when the function must be left alone."""
        return self not in (Decision.THROTTLE, Decision.NOTIFY_ONLY)


def is_guardrail_function(name: str, tags: Mapping[str, str], name_prefix: str) -> bool:
    """True for the guardrail's own functions, by name prefix or component tag."""
    return name.startswith(f"{name_prefix}-") or tags.get(TAG_COMPONENT) == COMPONENT_VALUE


def decide(
    facts: FunctionFacts, *, name_prefix: str, exempt_names: frozenset[str], notify_only: bool
) -> Decision:
    """Decide how a throttle request for `facts.name` is applied."""
    if is_guardrail_function(facts.name, facts.tags, name_prefix):
        return Decision.GUARDRAIL_OWN
    if facts.name in exempt_names:
        return Decision.EXEMPT_BY_NAME
    if facts.tags.get(TAG_EXEMPT, "").strip().lower() == "true":
        return Decision.EXEMPT_BY_TAG
    return Decision.NOTIFY_ONLY if notify_only else Decision.THROTTLE
