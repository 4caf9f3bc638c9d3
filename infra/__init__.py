"""CDK constructs and stacks that deploy Runaway Guardrail."""
