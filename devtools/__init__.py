"""Running the guardrail on the local AWS stand-in (moto's server): deploy, bridge, demo, bench."""
