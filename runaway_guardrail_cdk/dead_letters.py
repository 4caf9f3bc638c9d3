"""Dead-letter queues: no event meant for the guardrail, and no failed run of it, vanishes.

Two encrypted (SSE-SQS), TLS-only queues, retained when the stack is deleted, keep messages 14 days:
- `events`: events EventBridge could not deliver to a guardrail function within the target's retry
  policy (the function throttled beyond it, or not invocable). Each rule's target names it, and its
  policy lets EventBridge send only on behalf of those rules (`aws:SourceArn`).
- `invocations`: asynchronous invocations of a guardrail function that failed after Lambda's retries,
  or expired in Lambda's queue (an on-failure destination: the record holds the request, the error
  and the function).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aspects, Duration, RemovalPolicy, Validations
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .checkers import AsyncInvocationsCaught, explain

#: SQS's longest retention: two weeks to look at, and redrive, what failed.
RETENTION = Duration.days(14)
#: Lambda's own retries of a failed asynchronous invocation, and how long an event may wait for a run.
ASYNC_RETRIES = 2
ASYNC_MAX_AGE = Duration.hours(1)


class DeadLetters(Construct):
    """The guardrail's two dead-letter queues, and the wiring that fills them."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.events = self._queue("UndeliveredEvents")
        self.invocations = self._queue("FailedInvocations")
        self._caught: list[lambda_.Function] = []
        # the permissions EventBridge rules anywhere beside it (scope) give the functions it catches
        Aspects.of(scope).add(AsyncInvocationsCaught(self._caught))

    def target(
        self, function: lambda_.IFunction, *, retry_attempts: int, max_event_age: Duration
    ) -> targets.LambdaFunction:
        """An EventBridge target for `function` whose undeliverable events go to the `events` queue."""
        return targets.LambdaFunction(
            function,
            dead_letter_queue=self.events,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )

    def catch_failures(self, function: lambda_.Function) -> None:
        """Send `function`'s failed asynchronous invocations to the `invocations` queue."""
        function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.invocations),
            retry_attempts=ASYNC_RETRIES,
            max_event_age=ASYNC_MAX_AGE,
        )
        self._caught.append(function)

    @property
    def queues(self) -> dict[str, sqs.Queue]:
        """Both queues, by what they hold."""
        return {"undelivered-events": self.events, "failed-invocations": self.invocations}

    def _queue(self, construct_id: str) -> sqs.Queue:
        return dead_letter_queue(self, construct_id)


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """An encrypted, TLS-only queue kept 14 days and retained with the stack, to dead-letter into."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=RETENTION,
        removal_policy=RemovalPolicy.RETAIN,
    )
    itself = (
        "This queue is itself a dead-letter queue (of EventBridge targets or of Lambda's asynchronous "
        "invocations); a message that reaches it stays until an operator acts."
    )
    Validations.of(queue).acknowledge(Acknowledgment(id="AwsSolutions::AwsSolutions-SQS3", reason=itself))
    explain(queue, "cfn-lint", "ES6000", itself)
    explain(
        queue,
        "checkov",
        "CKV_AWS_27",
        "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which the check does not recognize; a KMS "
        "key would have to admit EventBridge and Lambda, and AWS's managed SQS key cannot.",
    )
    return queue
