"""Package layout (metadata: pyproject.toml): `guardrail`, `guardrail_cli`, and `infra/` as a library.

`guardrail` is the runtime, `guardrail_cli` the operator's command.

`infra/` is installed as `runaway_guardrail_cdk`, a name no other project's top-level `infra` collides
with; its modules import each other relatively, so the same files work under either name.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["guardrail", "guardrail.*", "guardrail_cli"]), "runaway_guardrail_cdk"],
    package_dir={"runaway_guardrail_cdk": "infra"},
)
