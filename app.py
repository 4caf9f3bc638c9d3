#!/usr/bin/env python3
"""CDK app: the guardrail's stacks, configured from the `guardrail` context in cdk.json.

It uses the construct library this repository publishes (`runaway_guardrail_cdk`), as any other CDK app
would.
"""

import os

import aws_cdk as cdk

from runaway_guardrail_cdk.app import build_app, cdk_json_context

if __name__ == "__main__":
    cli_context = "CDK_CONTEXT_JSON" in os.environ or "CONTEXT_OVERFLOW_LOCATION_ENV" in os.environ
    cdk_app = cdk.App(context=None if cli_context else cdk_json_context())
    # the home region, when `regions` or `organization` needs it (the CDK CLI sets both from the profile)
    home = cdk.Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
    )
    build_app(cdk_app, env=home)
    cdk_app.synth()
