"""Lambda function references (validated against where the guardrail acts) and the guardrail's tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardrail.errors import ForeignFunctionRef, InvalidFunctionRef

TAG_EXEMPT = "guardrail:exempt"
TAG_MAX_DEPTH = "guardrail:max-depth"
#: Its owner's word that a function runs the recursion guard without the guard's layer (`true`).
TAG_GUARDED = "guardrail:guarded"
#: Set on the guardrail's own functions for people to see; never trusted (anyone may tag a function).
TAG_COMPONENT = "guardrail:component"
COMPONENT_VALUE = "runaway-guardrail"

_FUNCTION = r"(?P<name>[A-Za-z0-9_-]{1,64})"
_QUALIFIER = r"(?::[A-Za-z0-9$_-]{1,128})?"
_NAME = re.compile(_FUNCTION)
_ARN = re.compile(
    rf"arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{{12}}):function:{_FUNCTION}{_QUALIFIER}"
)
_PARTIAL_ARN = re.compile(rf"(?P<account>\d{{12}}):function:{_FUNCTION}")
_SHOWN = 80


@dataclass(frozen=True)
class Scope:
    """Where the guardrail runs (its home account and region) and where it may act from there.

    `regions` are the watched regions (the home region always is one); in `organization` mode any
    account may be named: it is reached only through its member role, which exists only in the
    organization's member accounts.
    """

    account: str
    region: str
    partition: str = "aws"
    regions: frozenset[str] = field(default=frozenset())
    organization: bool = False

    @classmethod
    def of_function(cls, function_arn: str) -> Scope:
        """The scope of a running function, from its own ARN (a Lambda context's `invoked_function_arn`)."""
        match = _ARN.fullmatch(function_arn)
        if not match:
            raise ValueError(f"{_shown(function_arn)} is not a Lambda function ARN")
        return cls(match.group("account"), match.group("region"), match.group("partition"))

    def layer_arn(self, name: str) -> str:
        """The unversioned ARN of a Lambda layer of this account and region."""
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:layer:{name}"

    @property
    def watched_regions(self) -> frozenset[str]:
        """The regions the guardrail acts in: its home region and `regions`."""
        return self.regions | {self.region}

    def is_home(self, account: str, region: str) -> bool:
        """True for the guardrail's own account and region (a blank account or region is the home's)."""
        return account in ("", self.account) and region in ("", self.region)

    def admits(self, *, account: str | None = None, region: str | None = None) -> bool:
        """True when the account and region (each where known) are watched by the guardrail."""
        account_ok = account is None or account == self.account or self.organization
        return account_ok and (region is None or region in self.watched_regions)

    def __str__(self) -> str:
        accounts = "its organization's accounts" if self.organization else f"account {self.account}"
        regions = ", ".join(sorted(self.watched_regions))
        return f"{accounts}, region{'s' if len(self.watched_regions) > 1 else ''} {regions}"


def is_function_name(text: str) -> bool:
    """True for a plain, unqualified function name."""
    return _NAME.fullmatch(text) is not None


def function_name(ref: str, scope: Scope | None = None) -> str:
    """The function name a name, full ARN (maybe qualified) or partial ARN refers to.

    Raises `InvalidFunctionRef` for anything else, and its subclass `ForeignFunctionRef` for the ARN
    of a function outside `scope` (never read as the local function of the same name).
    """
    return function_place(ref, scope)[0]


def function_place(ref: str, scope: Scope | None = None) -> tuple[str, str | None, str | None]:
    """(name, account, region) of a function reference; what the reference does not say is None.

    Raises as `function_name` does.
    """
    text = ref.strip() if isinstance(ref, str) else ""
    if _NAME.fullmatch(text):
        return text, None, None
    match = _ARN.fullmatch(text) or _PARTIAL_ARN.fullmatch(text)
    if not match:
        raise InvalidFunctionRef(f"{_shown(ref)} is not a Lambda function name or ARN")
    found = match.groupdict()
    account, region = found["account"], found.get("region")
    if scope is not None and not scope.admits(account=account, region=region):
        where = f"account {account}" + (f", region {region}" if region else "")
        raise ForeignFunctionRef(f"{_shown(ref)} is a function of {where}; this guardrail acts in {scope}")
    return found["name"], account, region


def layer_in_region(layer_arn: str, region: str) -> str:
    """The same layer (its publisher's account, its name) as published in `region`."""
    parts = layer_arn.split(":")
    if len(parts) < 7:
        return layer_arn
    return ":".join([*parts[:3], region, *parts[4:]])


def function_arn(partition: str, account: str, region: str, name: str) -> str:
    """The unqualified ARN of a function."""
    return f"arn:{partition}:lambda:{region}:{account}:function:{name}"


def _shown(ref: object) -> str:
    text = repr(ref)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
