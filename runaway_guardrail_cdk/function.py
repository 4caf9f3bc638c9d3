"""One guardrail Lambda function, built from its row of the function table: role, log group, settings."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Tags, Validations
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from guardrail.adapters.permissions import Resource, enforcing, merged
from guardrail.config import GuardrailConfig, Settings
from guardrail.scope import COMPONENT_VALUE, TAG_COMPONENT

from .arns import acknowledge_wildcards, listed, watched_arns, watched_regions
from .checkers import explain
from .dead_letters import DeadLetters
from .function_table import ENFORCEMENT, HOME_STATE, FunctionSpec
from .powertools import ARCHITECTURE, RUNTIME, powertools_layer
from .state import GuardrailState

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The function asset holds the `guardrail` package (the runtime) and nothing else.
ASSET_EXCLUDES = ["*", ".*", "!guardrail", "!guardrail/**", "**/__pycache__", "**/*.pyc"]

#: Checkov's findings on every guardrail function, and why each stays as it is.
FUNCTION_FINDINGS = {
    "CKV_AWS_116": "Failed asynchronous invocations go to an on-failure destination (an SQS dead-letter "
    "queue, with the request and the error), which supersedes a DeadLetterConfig.",
    "CKV_AWS_117": "The function calls only AWS APIs and holds no network resource to isolate; in a VPC it "
    "would need a NAT gateway or an interface endpoint per service and region.",
    "CKV_AWS_173": "The environment holds configuration (names, ARNs, thresholds), no secret; Lambda "
    "encrypts it at rest with its AWS managed key.",
}


#: Why a function may act on any resource of a kind (cdk-nag's AwsSolutions-IAM5), by kind.
WILDCARDS = {
    Resource.FUNCTION: "The guardrail must read and change the reserved concurrency of any function in its "
    "account and watched regions, which it cannot know at deploy time; an explicit Deny keeps it off its "
    "own functions.",
    Resource.EVENT_SOURCE_MAPPING: "A throttle pauses the event source mappings that feed the throttled "
    "function and the restore resumes them; their UUIDs are known only at run time. An explicit Deny "
    "(condition lambda:FunctionArn) keeps it off the mappings of its own functions.",
    Resource.WORKGROUP: "The guardrail disables (and re-enables) the Athena workgroup a runaway runs in, "
    "and the Athena watch reads the statistics of queries in any workgroup: both known only at run time.",
    Resource.DATA_CATALOG: "glue:GetTable (read-only) finds where any table a query reads keeps its data.",
    Resource.BUCKET: "s3:GetBucketLocation (metadata only, no object access) finds the region of any "
    "bucket a table points at.",
}


def function_code() -> lambda_.Code:
    """The asset shared by every guardrail function."""
    return lambda_.Code.from_asset(str(PROJECT_ROOT), exclude=ASSET_EXCLUDES)


class GuardrailFunction(Construct):
    """A guardrail function wired to the ledger and alert topic, with enforcement rights."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        state: GuardrailState,
        spec: FunctionSpec,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = config.function_name(spec.role)
        #: Its row of the function table.
        self.spec = spec
        #: The function's role in the guardrail (its name after the prefix; its metrics' `service`).
        self.role_name = spec.role
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{name}",
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)  # noqa: S101 - always the L1 of a LogGroup
        cfn_log_group.retention_in_days = config.log_retention_days
        explain(
            self.log_group,
            "checkov",
            "CKV_AWS_158",
            "CloudWatch Logs encrypts every log group at rest; these hold the guardrail's decisions "
            "(function names, counts), no secrets, and a customer key would have to admit the Logs "
            "service in each region.",
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            role_name=name,  # the exact ARN member accounts' enforcement roles trust (organization mode)
            path=config.role_path,
            description=f"Runs {name}: throttles functions, disables workgroups, writes the ledger",
        )
        self.log_group.grant_write(self.role)
        settings = Settings(
            config=config,
            ledger_table=state.table.table_name,
            alert_topic_arn=state.topic.topic_arn,
            account=stack.account,
            region=stack.region,
            partition=stack.partition,
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            role=self.role,
            layers=[powertools_layer(self, config)],
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_size,
            reserved_concurrent_executions=config.reserved_concurrency_for(spec.role),
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            environment={
                **settings.to_env(),
                "POWERTOOLS_SERVICE_NAME": "runaway-guardrail",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        Tags.of(self.function).add(TAG_COMPONENT, COMPONENT_VALUE)
        for rule, reason in FUNCTION_FINDINGS.items():
            explain(self.function, "checkov", rule, reason)
        self._grant(config, state)

    def target(self, dead_letters: DeadLetters) -> targets.LambdaFunction:
        """An EventBridge target for this function, retried as its trigger says, dead-lettered after."""
        return dead_letters.target(
            self.function, retry_attempts=self.spec.trigger.retry_attempts, max_event_age=Duration.hours(1)
        )

    def _grant(self, config: GuardrailConfig, state: GuardrailState) -> None:
        """What enforcement and its row declare, each on its kind of resource; the Denies; the alert key.

        In this order: enforcement's grants on the resources it acts on, the Denies that keep them off
        the guardrail's own functions, enforcement's grants on the ledger and topic, the key, then the
        kinds of resource only its row names.
        """
        stack = Stack.of(self)
        arns = {**watched_arns(stack, watched_regions(stack, config)), **state.arns()}
        granted = merged(ENFORCEMENT, self.spec.grants)
        enforcement = merged(ENFORCEMENT)

        def allow(resources: list[Resource]) -> None:
            for resource in resources:
                statement = iam.PolicyStatement(actions=list(granted[resource]), resources=arns[resource])
                self.role.add_to_policy(statement)

        allow([resource for resource in enforcement if resource not in HOME_STATE])
        denied = enforcing(ENFORCEMENT)
        # the guardrail's own functions by their exact ARNs: a prefix would also shield anyone's
        # function that merely shares it, and keep the operator's kill switch off it
        own_functions = [_function_arn(stack, name) for name in sorted(config.own_functions())]
        self.role.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY, actions=list(denied[Resource.FUNCTION]), resources=own_functions
            )
        )
        self.role.add_to_policy(  # nor pause what feeds its own functions
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=list(denied[Resource.EVENT_SOURCE_MAPPING]),
                # the home region's, where the guardrail's functions run
                resources=arns[Resource.EVENT_SOURCE_MAPPING][:1],
                conditions={"ArnLike": {"lambda:FunctionArn": own_functions}},
            )
        )
        allow([resource for resource in enforcement if resource in HOME_STATE])
        state.key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        if config.organization.enabled:
            self._grant_member_roles(config)
        allow([resource for resource in granted if resource not in enforcement])
        for resource in granted:
            reason = WILDCARDS.get(resource)
            if reason is not None:
                acknowledge_wildcards(self, [arn for arn in arns[resource] if "*" in arn], reason)
        on_any = listed(granted[Resource.ANY])
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    f"{on_any} have no resource-level permissions, nor have xray:PutTraceSegments and "
                    "xray:PutTelemetryRecords (active tracing); they are the only actions on '*'."
                ),
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason=(
                    "The runtime is pinned to the Python version the Powertools layer is built for "
                    "(runaway_guardrail_cdk/powertools.py, python3.13); both move together."
                ),
            ),
        )

    def _grant_member_roles(self, config: GuardrailConfig) -> None:
        """Organization mode: assume the enforcement role of any account of the organization."""
        organization_id = config.organization.organization_id
        member_roles = f"arn:{Stack.of(self).partition}:iam::*:role/{config.member_role_name}"
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[member_roles],
                conditions={"StringEquals": {"aws:ResourceOrgID": organization_id}},
            )
        )
        acknowledge_wildcards(
            self,
            [member_roles],
            "The enforcement role has one name in every member account, and the accounts are the "
            "organization's (aws:ResourceOrgID), which change without a deploy.",
        )


def _function_arn(stack: Stack, name: str) -> str:
    return stack.format_arn(
        service="lambda", resource="function", resource_name=name, arn_format=ArnFormat.COLON_RESOURCE_NAME
    )
