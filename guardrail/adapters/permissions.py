"""IAM: what each adapter calls, declared once, each action with the kind of resource it acts on.

An adapter lists its grants in `PERMISSIONS`. The CDK package (`runaway_guardrail_cdk`) reads these
declarations to build each guardrail function's role and the member accounts' enforcement role: it
names the ARNs of each kind of resource and nothing else, so no action is sorted by its spelling.
Nothing reads them at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Resource(StrEnum):
    """A kind of resource IAM actions are granted on; the stacks know each kind's ARNs."""

    #: The ledger table and its `ActiveRecords` index.
    LEDGER = "ledger"
    #: The ledger table's items alone (no index).
    LEDGER_TABLE = "ledger-table"
    #: The ledger's `AuditTrail` index (the history of every target).
    AUDIT_INDEX = "audit-index"
    #: The alert topic.
    ALERT_TOPIC = "alert-topic"
    #: Any Lambda function of the account in the watched regions.
    FUNCTION = "function"
    #: Any event source mapping of the account in the watched regions.
    EVENT_SOURCE_MAPPING = "event-source-mapping"
    #: Any Athena workgroup of the account in the watched regions.
    WORKGROUP = "workgroup"
    #: The Glue Data Catalog of the account in the watched regions: catalog, databases, tables.
    DATA_CATALOG = "data-catalog"
    #: Any S3 bucket (its metadata).
    BUCKET = "bucket"
    #: '*': actions that have no resource-level permissions.
    ANY = "any"


@dataclass(frozen=True)
class Grant:
    """IAM actions on one kind of resource.

    `enforces`: the actions stop a target or put it back (a reservation, a mapping's or a workgroup's
    state); the stacks keep them off the guardrail's own functions, and a member account's role off
    what an owner exempts, by explicit Denies.
    """

    resource: Resource
    actions: tuple[str, ...]
    enforces: bool = False


def merged(*declarations: Iterable[Grant]) -> dict[Resource, tuple[str, ...]]:
    """The actions of every grant, by resource: kinds and actions each once, in the order declared."""
    by_resource: dict[Resource, dict[str, None]] = {}
    for grants in declarations:
        for grant in grants:
            by_resource.setdefault(grant.resource, {}).update(dict.fromkeys(grant.actions))
    return {resource: tuple(actions) for resource, actions in by_resource.items()}


def enforcing(*declarations: Iterable[Grant]) -> dict[Resource, tuple[str, ...]]:
    """The actions that enforce (`Grant.enforces`), by resource, each once, in the order declared."""
    return merged(*([grant for grant in grants if grant.enforces] for grants in declarations))


def actions_of(*declarations: Iterable[Grant]) -> frozenset[str]:
    """Every IAM action the declarations grant, on whatever resource."""
    return frozenset(action for grants in declarations for grant in grants for action in grant.actions)
