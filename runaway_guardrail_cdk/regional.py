"""A watched region besides home, in the home account: what it needs to be watched from home."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from guardrail.config import GuardrailConfig

from .forwarding import Forwarding
from .signal_bus import guard_layer, signal_bus


class GuardrailRegionStack(Stack):
    """The region's `<prefix>-signals` bus, the guard's layer naming it, and rules forwarding to home.

    The home region's functions act on this region's functions and workgroups directly (their roles
    name every watched region); nothing here runs code.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: GuardrailConfig, home_region: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.signal_bus = signal_bus(self, config)
        self.guard_layer = guard_layer(self, config)
        home_bus_arn = self.format_arn(
            service="events", resource="event-bus", resource_name=config.signal_bus_name, region=home_region
        )
        self.forwarding = Forwarding(
            self,
            "Forwarding",
            home_bus_arn=home_bus_arn,
            signal_bus=self.signal_bus,
            signal_bus_name=config.signal_bus_name,
        )
