"""The Athena watch: its function, the EventBridge rules that feed it, and an optional trail."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from guardrail.config import GuardrailConfig
from guardrail.handlers.observability import ATHENA_WATCH
from guardrail.recursion import EVENT_SOURCE, QUERY_STARTED

from .dead_letters import DeadLetters
from .forwarding import athena_patterns
from .function import GuardrailFunction
from .function_table import FUNCTIONS
from .state import GuardrailState


class AthenaWatchFunction(Construct):
    """The Athena watch function, subscribed to query state changes and CloudTrail query starts.

    With `signal_bus` (the recursion guard's bus), also to the guard's `Athena Query Started` claims.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: GuardrailConfig,
        state: GuardrailState,
        code: lambda_.Code,
        dead_letters: DeadLetters,
        signal_bus: events.IEventBus | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = GuardrailFunction(
            self, "Function", config=config, state=state, spec=FUNCTIONS[ATHENA_WATCH], code=code
        )
        target = self.function.target(dead_letters)
        #: Its rules on the default bus, by id: query state changes, CloudTrail's query starts. Their
        #: patterns are the ones other regions and accounts forward, their ids those of the forwarding
        #: rules less `Athena` (the names these rules had first: their logical ids stay).
        self.rules: dict[str, events.Rule] = {}
        for forwarded_id, (description, pattern) in athena_patterns().items():
            rule_id = forwarded_id.removeprefix("Athena")
            self.rules[rule_id] = events.Rule(
                self, rule_id, description=description, event_pattern=pattern, targets=[target]
            )
        self.query_claims = None if signal_bus is None else self._claims(config, signal_bus, target)
        self.trail = self._trail() if config.detectors.athena_watch.create_trail else None

    def _claims(
        self, config: GuardrailConfig, signal_bus: events.IEventBus, target: events.IRuleTarget
    ) -> events.Rule:
        """The guard's `Athena Query Started` on the signal bus (verified by the watch before it counts)."""
        rule = events.Rule(
            self,
            "GuardQueryStarted",
            description="The recursion guard started an Athena query (verified, then booked as its start)",
            # by its (fixed) name, not a Ref: moto's CloudFormation cannot resolve a Ref to an event bus
            event_bus=events.EventBus.from_event_bus_name(self, "SignalBusByName", config.signal_bus_name),
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[QUERY_STARTED]),
            targets=[target],
        )
        rule.node.add_dependency(signal_bus)
        return rule

    def _trail(self) -> cloudtrail.Trail:
        bucket = s3.Bucket(
            self,
            "TrailBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        Validations.of(bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="The bucket only receives CloudTrail log files; CloudTrail itself records access "
                "to it, and a second access-log bucket would add cost without new facts.",
            )
        )
        return cloudtrail.Trail(
            self,
            "Trail",
            bucket=bucket,
            is_multi_region_trail=False,
            include_global_service_events=False,
            management_events=cloudtrail.ReadWriteType.WRITE_ONLY,
            enable_file_validation=True,
        )
