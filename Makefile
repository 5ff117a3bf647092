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

# llama.cpp (the `local` extra) is built from source: a portable AVX2 build without its tools
# takes about 4 minutes on 2 cores; the native build of this llama-cpp-python crashed on AVX-512/AMX CPUs.
LLAMA_CMAKE_ARGS ?= -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF \
  $(if $(filter x86_64,$(shell uname -m)),-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)

.PHONY: setup test eval-agents report bench calibrate

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(VENV)/bin/pip install -q -e '.[dev,local]'
	touch $@

## setup: virtualenv, package (editable, dev and local extras), a Docker engine, the sandbox images
setup: $(VENV)/.installed
	bash sandboxes/ensure-docker.sh
	$(AB) images build

## test: the whole suite (unit, real HTTP, real Docker)
test: setup
	$(VENV)/bin/python -m pytest -q --durations=25

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

## calibrate: coverage of every interval and false alarms and power of every gate, by simulation (results/calibration.json)
calibrate: $(VENV)/.installed
	$(VENV)/bin/python -m agentbench.calibration results/calibration.json
