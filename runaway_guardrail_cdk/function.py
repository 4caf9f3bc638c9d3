"""One guardrail Lambda function: its own role, log group, layer, settings and tags."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Tags, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from guardrail.adapters.lambda_functions import LambdaControl
from guardrail.adapters.ledger import ACTIVE_INDEX, Ledger
from guardrail.adapters.sns_alerts import SnsAlerts
from guardrail.config import GuardrailConfig, Settings
from guardrail.domain import TargetKind
from guardrail.enforcement.actions import ACTIONS, ThrottleFunction
from guardrail.scope import COMPONENT_VALUE, TAG_COMPONENT

from .arns import acknowledge_wildcards, in_regions, watched_regions
from .checkers import explain
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
        role_name: str,
        handler: str,
        description: str,
        code: lambda_.Code,
        timeout_seconds: int = 60,
        memory_size: int = 256,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        name = config.function_name(role_name)
        #: The function's role in the guardrail (its name after the prefix; its metrics' `service`).
        self.role_name = role_name
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
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=code,
            role=self.role,
            layers=[powertools_layer(self, config)],
            timeout=Duration.seconds(timeout_seconds),
            memory_size=memory_size,
            reserved_concurrent_executions=config.reserved_concurrency_for(role_name),
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
        self._grant_enforcement(config, state)

    def _grant_enforcement(self, config: GuardrailConfig, state: GuardrailState) -> None:
        """Every registered action's permissions on its kind of resource; the ledger; the topic."""
        stack = Stack.of(self)
        regions = watched_regions(stack, config)
        functions = in_regions(
            stack, regions, service="lambda", resource="function", resource_name="*", colon=True
        )
        workgroups = in_regions(stack, regions, service="athena", resource="workgroup", resource_name="*")
        resources = {TargetKind.FUNCTION: functions, TargetKind.WORKGROUP: workgroups}
        mappings = in_regions(
            stack, regions, service="lambda", resource="event-source-mapping", resource_name="*", colon=True
        )
        # IAM actions whose resource is not the target itself
        elsewhere = {
            "lambda:ListEventSourceMappings": ["*"],
            "lambda:GetEventSourceMapping": mappings,
            "lambda:UpdateEventSourceMapping": mappings,
        }
        for kind, action in ACTIONS.items():
            by_resource: dict[tuple[str, ...], list[str]] = {}
            for permission in action.permissions:
                by_resource.setdefault(tuple(elsewhere.get(permission, resources[kind])), []).append(
                    permission
                )
            for arns, permissions in by_resource.items():
                self.role.add_to_policy(iam.PolicyStatement(actions=permissions, resources=list(arns)))
        listing = [a for a in LambdaControl.PERMISSIONS if a.startswith("lambda:List")]
        self.role.add_to_policy(iam.PolicyStatement(actions=listing, resources=["*"]))
        change = [a for a in ThrottleFunction.permissions if a not in elsewhere and ":Get" not in a]
        # the guardrail's own functions by their exact ARNs: a prefix would also shield anyone's
        # function that merely shares it, and keep the operator's kill switch off it
        own_functions = [_function_arn(stack, name) for name in sorted(config.own_functions())]
        self.role.add_to_policy(
            iam.PolicyStatement(effect=iam.Effect.DENY, actions=change, resources=own_functions)
        )
        self.role.add_to_policy(  # nor pause what feeds its own functions
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=["lambda:UpdateEventSourceMapping"],
                resources=[mappings[0]],  # the home region's, where the guardrail's functions run
                conditions={"ArnLike": {"lambda:FunctionArn": own_functions}},
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=list(Ledger.PERMISSIONS),
                resources=[state.table.table_arn, f"{state.table.table_arn}/index/{ACTIVE_INDEX}"],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=list(SnsAlerts.PERMISSIONS), resources=[state.topic.topic_arn])
        )
        state.key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        if config.organization.enabled:
            self._grant_member_roles(config)
        acknowledge_wildcards(
            self,
            functions,
            "The guardrail must read and change the reserved concurrency of any function in its account "
            "and watched regions, which it cannot know at deploy time; an explicit Deny keeps it off its "
            "own functions.",
        )
        acknowledge_wildcards(
            self,
            workgroups,
            "The guardrail disables (and re-enables) the Athena workgroup a runaway runs in, which it "
            "knows only at run time.",
        )
        acknowledge_wildcards(
            self,
            mappings,
            "A throttle pauses the event source mappings that feed the throttled function and the restore "
            "resumes them; their UUIDs are known only at run time. An explicit Deny (condition "
            "lambda:FunctionArn) keeps it off the mappings of its own functions.",
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason=(
                    "lambda:ListFunctions and lambda:ListEventSourceMappings have no resource-level "
                    "permissions, nor have xray:PutTraceSegments and xray:PutTelemetryRecords (active "
                    "tracing); they are the only actions on '*'."
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
