"""Kill-switch requests' references to targets and places, checked against the guardrail's scope.

Pydantic validators call these with the request's `ValidationInfo`: its context holds the `Scope`
(`parse_request(event, scope=...)`), its data the request's `account` and `region` for bare names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationInfo

from guardrail.domain import Target, TargetKind
from guardrail.enforcement.actions import ACTIONS
from guardrail.errors import InvalidTargetRef
from guardrail.scope import Scope

MAX_TARGETS = 200
ACCOUNT_ID, REGION_NAME = r"\d{12}", r"[a-z]{2}(-[a-z]+)+-\d"
#: The validation context's key for the scope.
SCOPE = "scope"


def scope_of(info: ValidationInfo) -> Scope:
    """The scope the request is validated in."""
    scope = (info.context or {}).get(SCOPE)
    if not isinstance(scope, Scope):
        raise TypeError("references are validated by parse_request(event, scope=...)")
    return scope


def references(refs: list[Any] | None, info: ValidationInfo) -> list[Target] | None:
    """Each reference validated by its kind's action in the request's scope, duplicates dropped."""
    if refs is None:
        return None
    scope = scope_of(info)
    account = info.data.get("account") or scope.account
    region = info.data.get("region") or scope.region
    kind = TargetKind(str(info.field_name).removesuffix("s"))
    try:
        return list(
            dict.fromkeys(
                ACTIONS[kind].validate(_ref(ref, kind), scope, account=account, region=region) for ref in refs
            )
        )
    except InvalidTargetRef as exc:
        raise ValueError(str(exc)) from exc


def _ref(ref: Any, kind: TargetKind) -> str:
    if not isinstance(ref, str):
        raise InvalidTargetRef(f"{json.dumps(ref)} is not a {kind.value} name or ARN")
    return ref


def watched(info: ValidationInfo, *, account: str | None = None, region: str | None = None) -> None:
    """Raise ValueError naming the account or region when the guardrail does not watch it."""
    scope = scope_of(info)
    if not scope.admits(account=account, region=region):
        where = f"account {account}" if account else f"region {region}"
        raise ValueError(f"{where} is not watched: this guardrail acts in {scope}")


def names_or_all(value: Any, info: ValidationInfo) -> Any:
    """`"all"`, or a list of references (as `references`)."""
    field = str(info.field_name)
    if value is None or value == "all":
        return value
    if not isinstance(value, list) or not value or not all(isinstance(ref, str) for ref in value):
        kind = field.removesuffix("s")
        raise ValueError(f'must be "all" or a non-empty list of {kind} names, not {json.dumps(value)}')
    if len(value) > MAX_TARGETS:
        raise ValueError(f"at most {MAX_TARGETS} names, not {len(value)}")
    return references(value, info)


def places_watched(value: list[str] | None, info: ValidationInfo) -> list[str] | None:
    """`accounts` / `regions`: each an account id / region name the guardrail watches, duplicates dropped."""
    if value is None:
        return None
    key = "account" if info.field_name == "accounts" else "region"
    pattern = ACCOUNT_ID if key == "account" else REGION_NAME
    for place in value:
        if not re.fullmatch(pattern, place):
            raise ValueError(f"{place!r} is not an AWS {key} {'id' if key == 'account' else 'name'}")
        watched(info, **{key: place})
    return list(dict.fromkeys(value))
