"""Pure decision: may this target be acted on, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from guardrail.domain import TargetFacts, TargetKind
from guardrail.functions import COMPONENT_VALUE, TAG_COMPONENT, TAG_EXEMPT


class Decision(StrEnum):
    """What enforcement should do with a finding."""

    ENFORCE = "enforce"
    NOTIFY_ONLY = "notify-only"
    EXEMPT_BY_TAG = "exempt-by-tag"
    EXEMPT_BY_NAME = "exempt-by-name"
    GUARDRAIL_OWN = "guardrail-own"

    @property
    def exempt(self) -> bool:
        """True when the target must be left alone."""
        return self not in (Decision.ENFORCE, Decision.NOTIFY_ONLY)


@dataclass(frozen=True)
class Exemptions:
    """What the guardrail never acts on: its own resources, and names the configuration lists by kind."""

    name_prefix: str
    names: Mapping[TargetKind, frozenset[str]] = field(default_factory=dict)


def is_guardrail_own(name: str, tags: Mapping[str, str], name_prefix: str) -> bool:
    """True for the guardrail's own resources, by name prefix or component tag."""
    return name.startswith(f"{name_prefix}-") or tags.get(TAG_COMPONENT) == COMPONENT_VALUE


def decide(facts: TargetFacts, *, exemptions: Exemptions, notify_only: bool) -> Decision:
    """Decide how a finding about `facts.target` is applied."""
    target = facts.target
    if is_guardrail_own(target.name, facts.tags, exemptions.name_prefix):
        return Decision.GUARDRAIL_OWN
    if target.name in exemptions.names.get(target.kind, frozenset()):
        return Decision.EXEMPT_BY_NAME
    if facts.tags.get(TAG_EXEMPT, "").strip().lower() == "true":
        return Decision.EXEMPT_BY_TAG
    return Decision.NOTIFY_ONLY if notify_only else Decision.ENFORCE
