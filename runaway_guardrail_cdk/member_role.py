"""The enforcement role of a member account: what the central guardrail may do there, and nothing else.

Its permissions are the runtime's own declarations (the adapters' `PERMISSIONS`): whatever a guardrail
function may do on a resource that can be in a watched account (`function_table`), each on its kind
of resource in this account in the watched regions.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnCondition, Fn, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from guardrail.adapters.permissions import Grant, Resource, enforcing, merged
from guardrail.config import GuardrailConfig
from guardrail.scope import TAG_EXEMPT

from .arns import acknowledge_wildcards, listed, watched_arns
from .function_table import ENFORCEMENT, FUNCTIONS, in_watched_accounts

#: What the central guardrail calls in a member account: every function's grants on its resources.
MEMBER_GRANTS: tuple[Grant, ...] = in_watched_accounts(
    (*ENFORCEMENT, *(grant for spec in FUNCTIONS.values() for grant in spec.grants))
)
#: What a throttle changes besides the function, which an owner may exempt by tag: a mapping, a workgroup.
PAUSES = (Resource.WORKGROUP, Resource.EVENT_SOURCE_MAPPING)


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
        kinds = {action: grant.resource for grant in MEMBER_GRANTS for action in grant.actions}
        by_resource: dict[Resource, list[str]] = {}
        for action in sorted(kinds):
            by_resource.setdefault(kinds[action], []).append(action)
        arns = self._arns()
        statements = [
            iam.PolicyStatement(actions=actions, resources=arns[resource])
            for resource, actions in by_resource.items()
        ]
        for statement in statements:
            if statement.resources == arns[Resource.BUCKET]:  # S3 ARNs name no account: this account's only
                statement.add_condition("StringEquals", {"aws:ResourceAccount": self._stack.account})
        # The mutating calls on what a throttle pauses: never on a workgroup or mapping its owner tagged
        # `guardrail:exempt=true` (IAM reads the tag; the guardrail's ledger is nothing IAM can read).
        pauses = enforcing(MEMBER_GRANTS)
        statements.append(
            iam.PolicyStatement(
                sid="NeverOnWhatItsOwnerExempts",
                effect=iam.Effect.DENY,
                actions=sorted(action for resource in PAUSES for action in pauses[resource]),
                resources=[arn for resource in PAUSES for arn in arns[resource]],
                conditions={"StringEqualsIgnoreCase": {f"aws:ResourceTag/{TAG_EXEMPT}": "true"}},
            )
        )
        return statements

    def _arns(self) -> dict[Resource, list[str]]:
        arns = watched_arns(self._stack, self._regions)
        reasons = {
            Resource.FUNCTION: "The central guardrail reads and changes the reserved concurrency of any "
            "function of this account in the watched regions (which it knows only at run time).",
            Resource.EVENT_SOURCE_MAPPING: "A throttle pauses the event source mappings feeding the function "
            "(UUIDs known only at run time); the restore resumes exactly those.",
            Resource.WORKGROUP: "The Athena watch reads query statistics in, and may disable, any "
            "workgroup of this account in the watched regions.",
            Resource.DATA_CATALOG: "glue:GetTable (read-only) finds where a table an Athena query reads "
            "keeps its data.",
            Resource.BUCKET: "s3:GetBucketLocation (metadata only) on this account's buckets "
            "(aws:ResourceAccount) finds the region of a table's data.",
        }
        for kind, reason in reasons.items():
            acknowledge_wildcards(self, arns[kind], reason)
        acknowledge_wildcards(
            self,
            arns[Resource.ANY],
            f"{listed(merged(MEMBER_GRANTS)[Resource.ANY])} have no resource-level permissions; they read "
            "this account only.",
        )
        return arns
