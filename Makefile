# Baton: every set-up step lives here, so `make test` and `make demo` work on a fresh clone
# with nothing installed but the machine's Python 3.11+, Node, npm and git.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
NODE_MAJOR := 22
NODE_VERSION := 22.23.3

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
NODE_HOME := $(TOOLS)/node$(NODE_MAJOR)
CDK_CLI := infra/node/node_modules/.bin/cdk

# Node 22 (from npm) goes first on PATH only when the system Node is older; jsii and the CDK
# CLI both find `node` on PATH.
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
ifeq ($(shell test $(SYSTEM_NODE_MAJOR) -lt $(NODE_MAJOR) && echo old),old)
NODE_STAMP := $(NODE_HOME)/node_modules/.bin/node
export PATH := $(CURDIR)/$(NODE_HOME)/node_modules/.bin:$(PATH)
endif
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_OUTDIR := cdk.out

.PHONY: help setup test lint typecheck demo synth deploy lambda-wheels local bench rules-check lock clean

help:
	@echo "make demo   set up and run the sample scenario on the embedded AWS"
	@echo "make test   set up and run every check and test"
	@echo "make local  serve the API on http://127.0.0.1:3000 over the embedded AWS"
	@echo "make synth  synthesize the CloudFormation template into cdk.out/"
	@echo "make rules-check  break each rule of the rulebook on purpose and check its tests fail"
	@echo "make bench  print start-up figures, exactly-once figures under injected faults, contact import rates, 5,200 generated API requests, campaign cost, a 1M drain and local campaign rates at 1,000 and 10,000 contacts"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) requirements/dev.lock pyproject.toml
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(VENV)/bin/python requirements/dev.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $@

$(NODE_HOME)/node_modules/.bin/node:
	npm install --silent --no-save --no-package-lock --prefix $(NODE_HOME) node@$(NODE_VERSION)

$(CDK_CLI): infra/node/package-lock.json $(NODE_STAMP)
	cd infra/node && npm ci --silent
	touch $@

setup: $(VENV)/.synced $(CDK_CLI) $(NODE_STAMP)

lint: setup
	ruff check .
	ruff format --check .

typecheck: setup
	mypy

test: setup lambda-wheels lint typecheck
	pytest -p no:cacheprovider tests

demo: setup
	baton demo

# The Lambda dependencies as wheels for the Lambda platform, so `make synth` bundles offline
# (infra/lambda_asset.py installs from here with --no-index).
LAMBDA_WHEELS := $(TOOLS)/lambda-wheels
$(LAMBDA_WHEELS)/.downloaded: requirements/lambda.lock $(UV)
	rm -rf $(LAMBDA_WHEELS)
	$(TOOLS)/bin/pip download --quiet --disable-pip-version-check --dest $(LAMBDA_WHEELS) \
		--platform manylinux2014_x86_64 --implementation cp --python-version 3.13 --only-binary=:all: \
		--requirement requirements/lambda.lock
	touch $@

lambda-wheels: $(LAMBDA_WHEELS)/.downloaded

synth: setup lambda-wheels
	$(CDK_CLI) synth --quiet

# Needs AWS credentials in the environment (CI's deploy role); settings come from cdk.json.
deploy: setup lambda-wheels
	$(CDK_CLI) deploy --require-approval never

local: setup
	baton local

# Figures, not tests: handler cold-start import times, synth and local deploy time, state
# transitions and Lambda invocations per delivered message of the sample journeys, and a local
# Distributed Map's time and memory over 100 and 1,000 batch items.
rules-check: setup lambda-wheels
	python -m infra.rules_check

bench: setup
	python -m infra.bench.startup
	python -m infra.bench.journeys
	python -m infra.bench.once
	python -m infra.bench.audience
	python -m infra.bench.campaigns
	python -m infra.bench.campaigns_local
	python -m infra.bench.distributed_map
	python -m infra.bench.imports
	BATON_GENERATED_REQUESTS=5200 python -m pytest -p no:cacheprovider -q -s tests/integration/test_api_generated_inputs.py

# Regenerate the lock files after changing pyproject.toml.
lock: $(UV)
	$(UV) pip compile pyproject.toml --all-extras --group pyproject.toml:dev --generate-hashes \
		--python-version 3.11 --universal -q -o requirements/dev.lock
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.13 \
		--python-platform x86_64-manylinux2014 -q -o requirements/lambda.lock

clean:
	rm -rf $(VENV) $(TOOLS) cdk.out infra/node/node_modules .mypy_cache .ruff_cache
