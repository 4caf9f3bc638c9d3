"""Where one deployment watches: its regions and, in organization mode, its member accounts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from guardrail.config.base import Bool, Str, StrictModel, matching

Region = Annotated[Str, matching(r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region name (us-west-2)")]
AccountId = Annotated[Str, matching(r"\d{12}", "a 12-digit AWS account id")]
OrganizationId = Annotated[Str, matching(r"o-[a-z0-9]{10,32}", "an organization id (o-...)")]
OrganizationalUnitId = Annotated[
    Str,
    matching(r"ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32}", "an OU or root id (ou-..., r-...)"),
]
FunctionName = Annotated[Str, matching(r"[A-Za-z0-9_-]{1,64}", "a Lambda function name")]
#: A bare name (the home account's function, in every watched region) or the ARN of one function.
ExemptFunction = Annotated[
    Str,
    matching(
        r"[A-Za-z0-9_-]{1,64}|arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}",
        "a Lambda function name (the home account's) or an unqualified function ARN (any other account's)",
    ),
]


class CallAs(StrEnum):
    """Whom the central stack's StackSet is created as (CloudFormation's `CallAs`)."""

    #: The organization's management account deploys the central stack.
    SELF = "SELF"
    #: A delegated administrator of CloudFormation StackSets (a member account) deploys it.
    DELEGATED_ADMIN = "DELEGATED_ADMIN"


class MemberAccount(StrictModel):
    """What one account adds to the deployment's rules: its own exemptions, or notify-only.

    Its `exemptFunctions` are names of this account's functions (in every watched region) only.
    """

    exempt_functions: tuple[FunctionName, ...] = ()
    #: Record and alert, never change a function of this account.
    notify_only: Bool = False


class Organization(StrictModel):
    """Organization mode: a member stack in every account of the named OUs, through a StackSet.

    The central stack creates a service-managed StackSet (automatic deployment) of the member stack:
    rules forwarding the account's signals to the central bus, and an enforcement role that only the
    central guardrail's functions can assume. The central bus admits events from the organization only.
    """

    enabled: Bool = False
    organization_id: OrganizationId | None = None
    organizational_unit_ids: tuple[OrganizationalUnitId, ...] = ()
    #: The account the central stack is deployed in: the management account (SELF) or a delegated
    #: administrator of StackSets (DELEGATED_ADMIN).
    call_as: CallAs = CallAs.SELF
    #: Per-account overrides, by account id.
    accounts: dict[AccountId, MemberAccount] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> Self:
        if self.enabled and (self.organization_id is None or not self.organizational_unit_ids):
            raise ValueError("enabled needs organizationId and at least one of organizationalUnitIds")
        return self

    def member(self, account: str) -> MemberAccount:
        """The overrides of one account (none: the deployment's own rules)."""
        return self.accounts.get(account, _NO_OVERRIDES)


_NO_OVERRIDES = MemberAccount()
