"""Pure decisions: may this target be acted on, and how; does it bear out what a finding claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from guardrail.config.fleet import MemberAccount
from guardrail.domain import Expectation, TargetFacts, TargetKind
from guardrail.scope import TAG_EXEMPT, TAG_GUARDED, Scope

_LAYER_ARN_PARTS = 7  # arn:partition:lambda:region:account:layer:name[:version]
_FUNCTION_ARN_PARTS = 7  # arn:partition:lambda:region:account:function:name (unqualified)


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
    """What the guardrail never acts on, by kind: its own resources, and the names the configuration lists.

    Its own resources are known by their exact deployed names, never by a prefix or a tag, which
    anyone may give a function.
    """

    own: Mapping[TargetKind, frozenset[str]] = field(default_factory=dict)
    names: Mapping[TargetKind, frozenset[str]] = field(default_factory=dict)


def decide(facts: TargetFacts, *, exemptions: Exemptions, notify_only: bool) -> Decision:
    """Decide how a finding about `facts.target` is applied."""
    target = facts.target
    if target.name in exemptions.own.get(target.kind, frozenset()):
        return Decision.GUARDRAIL_OWN
    if target.name in exemptions.names.get(target.kind, frozenset()):
        return Decision.EXEMPT_BY_NAME
    if facts.tags.get(TAG_EXEMPT, "").strip().lower() == "true":
        return Decision.EXEMPT_BY_TAG
    return Decision.NOTIFY_ONLY if notify_only else Decision.ENFORCE


def decide_at(
    facts: TargetFacts,
    *,
    exemptions: Exemptions,
    notify_only: bool,
    member: MemberAccount,
    home: Scope,
) -> Decision:
    """`decide` with the target's account's own exemptions and notify-only (organization mode).

    The guardrail's own resources are its own only in its home account and region. An exemption names
    a place: a bare name in `exemptions.names` is the home account's (in every watched region), an
    ARN is that one function; another account's names are its own section's (`member`). A function
    named after an exempt one in another account is not exempt.
    """
    target = facts.target
    names = frozenset(
        ref for ref in exemptions.names.get(target.kind, frozenset()) if _names_here(ref, facts, home)
    )
    if target.kind is TargetKind.FUNCTION:
        names |= frozenset(member.exempt_functions)
    names = frozenset(ref.rsplit(":", 1)[-1] for ref in names)
    here = Exemptions(
        own=exemptions.own if home.is_home(target.account, target.region) else {},
        names={**exemptions.names, target.kind: names},
    )
    return decide(facts, exemptions=here, notify_only=notify_only or member.notify_only)


def _names_here(ref: str, facts: TargetFacts, home: Scope) -> bool:
    """True when the exemption `ref` (a bare name, or a function ARN) may name a target where this one is."""
    target = facts.target
    account, region = target.account or home.account, target.region or home.region
    if ":" not in ref:
        return account == home.account
    parts = ref.split(":")
    return len(parts) == _FUNCTION_ARN_PARTS and (parts[3], parts[4]) == (region, account)


def unmet(expect: Expectation, facts: TargetFacts) -> str | None:
    """Why the target's configuration does not bear out what a finding expects (None: it does)."""
    name = facts.target.name
    if expect.guard_layer is not None and not _runs_guard(expect.guard_layer, facts):
        wanted = unversioned_layer(expect.guard_layer) or "(none configured)"
        return f"{name} does not run the recursion guard (neither the layer {wanted} nor {TAG_GUARDED}=true)"
    if expect.role_arn is not None and facts.role_arn != expect.role_arn:
        return (
            f"the caller's role {expect.role_arn or '(unknown)'} is not {name}'s execution role "
            f"{facts.role_arn or '(unknown)'}"
        )
    return None


def _runs_guard(layer: str, facts: TargetFacts) -> bool:
    wanted = unversioned_layer(layer)
    carried = wanted and wanted in {unversioned_layer(arn) for arn in facts.layers}
    return bool(carried) or facts.tags.get(TAG_GUARDED, "").strip().lower() == "true"


def unversioned_layer(arn: str) -> str:
    """A layer ARN without its version: `arn:aws:lambda:r:a:layer:name:3` -> `...:layer:name`."""
    parts = arn.strip().split(":")
    return ":".join(parts[:_LAYER_ARN_PARTS]) if len(parts) >= _LAYER_ARN_PARTS else ""
