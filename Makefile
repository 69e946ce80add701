# Two commands on a fresh machine: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
# Where no NVIDIA driver is present, pin the CPU build of torch and the Triton it was released with.
HAS_CUDA := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo yes)
CPU_PINS := torch==2.13.0 triton==3.7.1 numpy

RUN_PROBLEM ?= softmax
RUN_BUDGET  ?= 24
RUN_DEVICE  ?= $(if $(HAS_CUDA),cuda:0,cpu)
EXPORT_DIR  ?= exported/$(RUN_PROBLEM)

.PHONY: run test test-fast lint typecheck unit install clean gpu-bench gpu-bench-system gpu-suite

$(STAMP): pyproject.toml Makefile
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
ifneq ($(HAS_CUDA),yes)
	$(PIP) install -q $(CPU_PINS)
endif
	$(PIP) install -q -e '.[triton,postgres,dev,ray,dashboard]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/crucible optimize $(RUN_PROBLEM) --proposer offline --budget $(RUN_BUDGET) --device $(RUN_DEVICE) --export $(EXPORT_DIR)
	$(PY) -m pytest -q $(EXPORT_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Tests run on TEST_WORKERS processes, a whole file per worker (so a module's fixtures are built
# once), then the `serial` tests, which need the cores to themselves, alone.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

unit: $(STAMP)
	$(PY) -m pytest -q $(PARALLEL) -m "not serial"
	$(PY) -m pytest -q -m serial

test: $(STAMP) lint typecheck unit

# The inner loop: the tests not marked slow (no whole optimizations, no full adversarial suite).
test-fast: $(STAMP)
	$(PY) -m pytest -q $(PARALLEL) -m "not slow and not serial"
	$(PY) -m pytest -q -m "serial and not slow"

# On a machine with a GPU: the GPU tests (the adversarial verdicts among them), timing fidelity,
# where one evaluation's time goes, evaluator overhead, the probes' honest ratios, then whole
# optimizations (JSON under benchmarks/results/). Every step runs even if an earlier one fails;
# the exit status says if any failed. `GPU_STEPS="gpu_tests"` runs a subset, for machines that
# give a command only a few minutes.
GPU_STEPS := gpu_tests gpu_timing gpu_stage_times gpu_evaluator probe_ratios gpu_optimize
# gpu_tests already gives every adversarial verdict; gpu_evaluator need not repeat them.
GPU_ARGS_gpu_evaluator := --skip-adversarial
GPU_ARGS_gpu_stage_times := --roots /tmp /dev/shm
GPU_ARGS_probe_ratios := --device cuda:0
define GPU_BENCH
status=0; $(foreach step,$(GPU_STEPS),echo "== $(step)"; \
  $(1) benchmarks/$(step).py $(GPU_ARGS_$(step)) || status=1;) exit $$status
endef
gpu-bench: $(STAMP)
	@$(call GPU_BENCH,$(PY))

# The same with the host's own python3, for GPU hosts whose Python already holds CUDA torch and
# Crucible (`pip install --no-deps --no-build-isolation -e .` plus its dependencies).
gpu-bench-system:
	@$(call GPU_BENCH,python3)

# The scoreboard: every built-in problem, Crucible's best against eager and torch.compile (~8 min).
gpu-suite: $(STAMP)
	$(PY) benchmarks/suite.py --device cuda:0

clean:
	rm -rf $(VENV) exported crucible.db .mypy_cache .ruff_cache .pytest_cache
