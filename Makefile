# agentbench: `make eval-agents` and `make test` set up whatever is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
AB := $(VENV)/bin/agentbench
DEFAULT_MODELS := oracle,noop
MODEL ?=
AGENTS ?= fast
SUITE ?= multistep
EPOCHS ?= 1
WORKERS ?= 2
BASE_URL ?=
RUN ?=

.PHONY: setup test eval-agents report bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

## setup: virtualenv, package (editable, dev extras), a Docker engine, the sandbox images
setup: $(VENV)/.installed
	bash sandboxes/ensure-docker.sh
	$(AB) images build

## test: the whole suite (unit, real HTTP, real Docker)
test: setup
	$(VENV)/bin/python -m pytest -q

## eval-agents: run MODEL (default: the built-in baselines) on SUITE and print the report
eval-agents: setup
	$(AB) run --model $(or $(MODEL),$(DEFAULT_MODELS)) --agent $(AGENTS) --suite $(SUITE) \
	  --epochs $(EPOCHS) --workers $(WORKERS) $(if $(BASE_URL),--base-url $(BASE_URL)) $(if $(RUN),--run $(RUN))

## report: the latest run's report (RUN=name for another)
report: $(VENV)/.installed
	$(AB) report $(RUN)

## bench: the harness's own overhead as ratios against raw docker and ideal concurrency (results/bench.json)
bench: setup
	$(VENV)/bin/python -m agentbench.benchmark
