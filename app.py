#!/usr/bin/env python3
"""CDK app: the guardrail's stacks, configured from the `guardrail` context in cdk.json."""

import os

import aws_cdk as cdk

from infra.app import build_app, cdk_json_context

if __name__ == "__main__":
    cli_context = "CDK_CONTEXT_JSON" in os.environ or "CONTEXT_OVERFLOW_LOCATION_ENV" in os.environ
    cdk_app = cdk.App(context=None if cli_context else cdk_json_context())
    build_app(cdk_app)
    cdk_app.synth()
