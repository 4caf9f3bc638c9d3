"""Stateful resources: the ledger table and the encrypted alert topic."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import ArnFormat, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from guardrail.adapters.ledger import (
    ACTIVE_INDEX,
    ACTIVE_INDEX_PARTITION_KEY,
    ACTIVE_INDEX_SORT_KEY,
    AUDIT_INDEX,
    AUDIT_INDEX_PARTITION_KEY,
    AUDIT_INDEX_SORT_KEY,
)
from guardrail.adapters.permissions import Resource
from guardrail.config import GuardrailConfig

from .checkers import explain
from .outputs import contract_output

#: Logical IDs of the stateful resources. Changing one replaces the resource (and loses the ledger).
LEDGER_LOGICAL_ID = "GuardrailLedger"
ALERT_TOPIC_LOGICAL_ID = "GuardrailAlertTopic"
ALERT_KEY_LOGICAL_ID = "GuardrailAlertKey"


class GuardrailState(Construct):
    """The ledger (throttle records, audit trail, counters) and the SNS alert topic."""

    def __init__(self, scope: Construct, construct_id: str, *, config: GuardrailConfig) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Ledger",
            table_name=f"{config.name_prefix}-ledger",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Sparse: only records that are applied or flagged carry `status`; `status` queries it.
        self.table.add_global_secondary_index(
            index_name=ACTIVE_INDEX,
            partition_key=dynamodb.Attribute(
                name=ACTIVE_INDEX_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=ACTIVE_INDEX_SORT_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # Sparse: only audit entries carry both `kind` and `at`; `history` of every target queries it.
        self.table.add_global_secondary_index(
            index_name=AUDIT_INDEX,
            partition_key=dynamodb.Attribute(
                name=AUDIT_INDEX_PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=AUDIT_INDEX_SORT_KEY, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.key = kms.Key(
            self,
            "AlertKey",
            description=f"Encrypts the {config.name_prefix} alert topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.topic = sns.Topic(
            self,
            "AlertTopic",
            topic_name=f"{config.name_prefix}-alerts",
            display_name="Runaway Guardrail alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.topic.apply_removal_policy(RemovalPolicy.RETAIN)
        for email in config.alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        explain(
            self.table,
            "checkov",
            "CKV_AWS_119",
            "Encrypted at rest with DynamoDB's AWS managed key. The ledger holds function names, "
            "reservations and audit entries, no secrets; a customer key would be one more thing every "
            "reader (the kill switch in an incident among them) must be allowed to use, for $1 a month.",
        )
        _pin(self.table, LEDGER_LOGICAL_ID)
        _pin(self.topic, ALERT_TOPIC_LOGICAL_ID)
        _pin(self.key, ALERT_KEY_LOGICAL_ID)
        contract_output(self, "AlertTopicArn", self.topic.topic_arn, "Subscribe to get alerts")
        contract_output(
            self, "LedgerTableName", self.table.table_name, "Throttle records, audit trail and counters"
        )

    def arns(self) -> dict[Resource, list[str]]:
        """The ARNs of each kind of the guardrail's own state (`Resource`), to grant on."""
        table = self.table.table_arn
        return {
            Resource.LEDGER: [table, f"{table}/index/{ACTIVE_INDEX}"],
            Resource.LEDGER_TABLE: [table],
            Resource.AUDIT_INDEX: [f"{table}/index/{AUDIT_INDEX}"],
            Resource.ALERT_TOPIC: [self.topic.topic_arn],
        }

    def allow_alarms(self, names: Iterable[str]) -> None:
        """Let these CloudWatch alarms of this account and region (exact names) publish to the topic.

        Both statements name the alarms by their exact ARNs (`aws:SourceArn`) and this account
        (`aws:SourceAccount`): no other alarm, whatever its name, may publish or use the key.
        """
        stack = Stack.of(self)
        alarms = sorted(
            stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in names
        )
        cloudwatch = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        conditions = {
            "ArnEquals": {"aws:SourceArn": alarms},
            "StringEquals": {"aws:SourceAccount": stack.account},
        }
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GuardrailAlarmsPublish",
                principals=[cloudwatch],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        # SNS encrypts each message with a data key that the publisher (CloudWatch) must be able to use.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GuardrailAlarmsEncrypt",
                principals=[cloudwatch],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=conditions,
            )
        )


def _pin(construct: Construct, logical_id: str) -> None:
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource)  # noqa: S101 - L2 constructs always have one
    resource.override_logical_id(logical_id)
