"""Package layout (metadata: pyproject.toml): the runtime `guardrail`; `infra/` as the construct library.

`infra/` is installed as `runaway_guardrail_cdk`, a name no other project's top-level `infra` collides
with; its modules import each other relatively, so the same files work under either name.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["guardrail", "guardrail.*"]), "runaway_guardrail_cdk"],
    package_dir={"runaway_guardrail_cdk": "infra"},
)
