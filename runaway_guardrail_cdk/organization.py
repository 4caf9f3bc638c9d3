"""Organization mode's central stack: the StackSet that puts the member stack in every member account."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack, Stage, Token
from aws_cdk import aws_cloudformation as cloudformation
from constructs import Construct

from guardrail.config import GuardrailConfig

from .member import member_outdir, member_template


class GuardrailOrganizationStack(Stack):
    """A service-managed StackSet of the member stack, deployed automatically to the named OUs.

    Every account that joins one of the OUs gets the member stack in every watched region, and loses it
    when it leaves; the account that deploys this stack (management or delegated administrator) is
    excluded: its own stacks already watch it. Deploy it in the home region.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        organization = config.organization
        if Token.is_unresolved(self.region):
            raise ValueError(f"{construct_id} needs its home region at synthesis (an explicit env)")
        regions = config.watched_regions(self.region)
        stage = Stage.of(self)
        outdir = stage.outdir if stage else None
        self.member, self.member_template = member_template(
            config,
            regions,
            context=self.node.get_all_context(),
            outdir=member_outdir(outdir) if outdir else None,
        )
        parameters = {
            "CentralAccount": self.account,
            "HomeRegion": self.region,
            "BusName": config.signal_bus_name,
        }
        self.stack_set = cloudformation.CfnStackSet(
            self,
            "MemberStackSet",
            stack_set_name=f"{config.name_prefix}-member",
            description="Runaway Guardrail member stack: forwarding rules and the enforcement role",
            permission_model="SERVICE_MANAGED",
            call_as=organization.call_as.value,
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            # updates of the StackSet (auto deployment to joining accounts ignores these): every region at
            # once, a quarter of the accounts at a time; a few broken accounts neither stop nor slow it
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                region_concurrency_type="PARALLEL",
                concurrency_mode="SOFT_FAILURE_TOLERANCE",
                max_concurrent_percentage=25,
                failure_tolerance_percentage=10,
            ),
            parameters=[
                cloudformation.CfnStackSet.ParameterProperty(parameter_key=key, parameter_value=value)
                for key, value in parameters.items()
            ],
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=list(organization.organizational_unit_ids),
                        accounts=[self.account],
                        account_filter_type="DIFFERENCE",
                    ),
                    regions=list(regions),
                )
            ],
            template_body=json.dumps(self.member_template, separators=(",", ":")),
        )
