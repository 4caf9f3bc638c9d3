"""The enforcement role of a member account: what the central guardrail may do there, and nothing else.

Its permissions are the runtime's own declarations (the registered actions' `permissions`, the
adapters' `PERMISSIONS`), each on the resources of this account in the watched regions.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnCondition, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from guardrail.adapters.athena_lookups import AthenaQueries, DataLocations
from guardrail.adapters.cloudwatch_metrics import CloudWatchMetrics
from guardrail.adapters.event_sources import EventSources
from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.config import GuardrailConfig
from guardrail.enforcement.actions import ACTIONS
from guardrail.scope import TAG_EXEMPT

from .arns import acknowledge_wildcards, in_regions

#: Actions without resource-level permissions: granted on '*' (they read this account only).
ON_ANY_RESOURCE = frozenset(
    {"lambda:ListFunctions", "lambda:ListEventSourceMappings", "cloudwatch:GetMetricData"}
)

#: What a throttle changes besides the function: its workgroup's state, the mappings that feed it.
MUTATING_PAUSES = frozenset({"athena:UpdateWorkGroup", "lambda:UpdateEventSourceMapping"})


def enforcement_permissions() -> frozenset[str]:
    """Every IAM action the central guardrail calls in a member account, from the runtime's declarations."""
    declared = [p for action in ACTIONS.values() for p in action.permissions]
    for adapter in (LambdaControl, EventSources, AthenaQueries, DataLocations, CloudWatchMetrics):
        declared.extend(adapter.PERMISSIONS)
    return frozenset(declared)


class EnforcementRole(Construct):
    """`<prefix>-enforcement`: assumable only by the central guardrail's roles, from the organization."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        regions: Sequence[str],
        central_account: str,
        condition: CfnCondition,
    ) -> None:
        super().__init__(scope, construct_id)
        organization_id = config.organization.organization_id
        if organization_id is None:
            raise ValueError("the enforcement role needs guardrail.organization.organizationId")
        central = f"arn:${{AWS::Partition}}:iam::{central_account}"
        # the central guardrail functions' roles by their exact ARNs (named after their functions), not a
        # path: anyone who may create a role under the path in the central account would be trusted too
        roles = [Fn.sub(f"{central}:role{config.role_path}{name}") for name in sorted(config.own_functions())]
        trusted = iam.ArnPrincipal(Fn.sub(f"{central}:root")).with_conditions(
            {
                "ArnEquals": {"aws:PrincipalArn": roles},
                "StringEquals": {"aws:PrincipalOrgID": organization_id},
            }
        )
        self._stack = Stack.of(self)
        self._regions = list(regions)
        self.role = iam.Role(
            self,
            "Role",
            role_name=config.member_role_name,
            assumed_by=trusted,
            description="Runaway Guardrail: the central guardrail throttles and restores functions here",
            inline_policies={"Enforcement": iam.PolicyDocument(statements=self._statements())},
        )
        cfn_role = self.role.node.default_child
        assert isinstance(cfn_role, iam.CfnRole)  # noqa: S101 - always the L1 of a Role
        cfn_role.cfn_options.condition = condition

    def _statements(self) -> list[iam.PolicyStatement]:
        by_resource: dict[str, list[str]] = {}
        for permission in sorted(enforcement_permissions()):
            by_resource.setdefault(self._resource_kind(permission), []).append(permission)
        arns = self._arns()
        statements = [
            iam.PolicyStatement(actions=actions, resources=arns[kind])
            for kind, actions in by_resource.items()
        ]
        for statement in statements:
            if statement.resources == arns["bucket"]:  # S3 ARNs name no account: this account's only
                statement.add_condition("StringEquals", {"aws:ResourceAccount": self._stack.account})
        # The mutating calls on what a throttle pauses: never on a workgroup or mapping its owner tagged
        # `guardrail:exempt=true` (IAM reads the tag; the guardrail's ledger is nothing IAM can read).
        statements.append(
            iam.PolicyStatement(
                sid="NeverOnWhatItsOwnerExempts",
                effect=iam.Effect.DENY,
                actions=sorted(MUTATING_PAUSES),
                resources=[*arns["workgroup"], *arns["mapping"]],
                conditions={"StringEqualsIgnoreCase": {f"aws:ResourceTag/{TAG_EXEMPT}": "true"}},
            )
        )
        return statements

    def _resource_kind(self, permission: str) -> str:
        if permission in ON_ANY_RESOURCE:
            return "any"
        if permission in ("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"):
            return "mapping"
        kind = {"lambda": "function", "athena": "workgroup", "glue": "table", "s3": "bucket"}.get(
            permission.split(":", maxsplit=1)[0]
        )
        if kind is None:
            raise ValueError(f"{permission} has no resource in the member role: add it to member_role.py")
        return kind

    def _arns(self) -> dict[str, list[str]]:
        stack, regions = self._stack, self._regions
        arns = {
            "any": ["*"],
            "function": in_regions(
                stack, regions, service="lambda", resource="function", resource_name="*", colon=True
            ),
            "mapping": in_regions(
                stack,
                regions,
                service="lambda",
                resource="event-source-mapping",
                resource_name="*",
                colon=True,
            ),
            "workgroup": in_regions(
                stack, regions, service="athena", resource="workgroup", resource_name="*"
            ),
            "table": [
                *in_regions(stack, regions, service="glue", resource="catalog"),
                *in_regions(stack, regions, service="glue", resource="database", resource_name="*"),
                *in_regions(stack, regions, service="glue", resource="table", resource_name="*/*"),
            ],
            "bucket": [f"arn:{stack.partition}:s3:::*"],
        }
        reasons = {
            "function": "The central guardrail reads and changes the reserved concurrency of any function of "
            "this account in the watched regions (which it knows only at run time).",
            "mapping": "A throttle pauses the event source mappings feeding the function (UUIDs known "
            "only at run time); the restore resumes exactly those.",
            "workgroup": "The Athena watch reads query statistics in, and may disable, any workgroup of this "
            "account in the watched regions.",
            "table": "glue:GetTable (read-only) finds where a table an Athena query reads keeps its data.",
            "bucket": "s3:GetBucketLocation (metadata only) on this account's buckets (aws:ResourceAccount) "
            "finds the region of a table's data.",
        }
        for kind, reason in reasons.items():
            acknowledge_wildcards(self, arns[kind], reason)
        acknowledge_wildcards(
            self,
            ["*"],
            "lambda:ListFunctions, lambda:ListEventSourceMappings and cloudwatch:GetMetricData have no "
            "resource-level permissions; they read this account only.",
        )
        return arns
