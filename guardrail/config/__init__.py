"""One family of pydantic models for all configuration.

cdk.json's `guardrail` context is validated at synthesis (`GuardrailConfig.from_context`), written into
the functions' environment (`Settings.to_env`) and read back there (`Settings.from_env`); the replay
scenarios reuse the detector models. Every error is a `guardrail.errors.ConfigError` naming the key.
"""

from guardrail.config.athena_watch import ActiveHours, AthenaWatchConfig, CrossRegionAction, Rules
from guardrail.config.guardrail import CONTEXT_KEY, Detectors, GuardrailConfig
from guardrail.config.invocation_scan import InvocationScanConfig
from guardrail.config.settings import Settings

__all__ = [
    "CONTEXT_KEY",
    "ActiveHours",
    "AthenaWatchConfig",
    "CrossRegionAction",
    "Detectors",
    "GuardrailConfig",
    "InvocationScanConfig",
    "Rules",
    "Settings",
]
