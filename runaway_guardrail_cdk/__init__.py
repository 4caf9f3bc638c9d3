"""Runaway Guardrail's CDK constructs: `runaway_guardrail_cdk` (docs/construct.md).

Installed with the `cdk` extra of this repository's wheel (`pip install "<wheel or path>[cdk]"`; the
package is not on a public index). Add the whole guardrail to a stack of your own::

    from runaway_guardrail_cdk import GuardrailConfig, RunawayGuardrail, add_checks

    config = GuardrailConfig.from_context(app.node.try_get_context("guardrail"))
    guardrail = RunawayGuardrail(stack, "Guardrail", config=config)
    add_checks(guardrail)  # optional: cdk-nag on the guardrail's resources (add_checks(app): on all)

With `regions` or `organization` in the configuration, `runaway_guardrail_cdk.app.build_stacks` adds the
stacks of the other watched regions and the organization's StackSet (docs/fleet.md).

The Lambda code and the recursion guard's layer are built from the `guardrail` package installed with
this one (the runtime); nothing is downloaded at synthesis but the Powertools layer's
wheels, cached in `build/` (or set `powertoolsLayerArn`).
"""

from importlib import metadata

from guardrail.config import GuardrailConfig

from .guardrail import GuardrailFunctions, RunawayGuardrail
from .member import GuardrailMemberStack
from .nag import add_checks
from .organization import GuardrailOrganizationStack
from .regional import GuardrailRegionStack
from .stacks import GuardrailServiceStack, GuardrailStateStack
from .state import GuardrailState

__version__ = metadata.version("runaway-guardrail")
__all__ = [
    "GuardrailConfig",
    "GuardrailFunctions",
    "GuardrailMemberStack",
    "GuardrailOrganizationStack",
    "GuardrailRegionStack",
    "GuardrailServiceStack",
    "GuardrailState",
    "GuardrailStateStack",
    "RunawayGuardrail",
    "__version__",
    "add_checks",
]
