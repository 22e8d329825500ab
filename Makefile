# Two commands on a fresh machine: `make demo` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/.tools/bin:$(PATH)

.PHONY: demo test lint typecheck unit bench venv system-tools clean test-image kyverno crds policy-test k8s k8s-up k8s-down soak backtest

$(STAMP): pyproject.toml kubesandbox/pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -e ./kubesandbox
	@touch $(STAMP)

venv: $(STAMP)

# Debian servers and tools the tests use (prometheus, promtool, pushgateway, ...): installed by the
# project itself, idempotent, a no-op when already present.
system-tools:
	@bash tools/install-system.sh

# Tools built from their Go modules into .tools/ (idempotent: a no-op once built; see the README).
k8s:  # kube-apiserver, -controller-manager, -scheduler, kubectl, etcd, kwok into .tools/k8s/<version>/bin
	@bash tools/k8s/build.sh >/dev/null
K8S_DIR ?= .tools/k8s/cluster
k8s-up: k8s
	tools/k8s/cluster up --dir $(K8S_DIR) --detach
k8s-down:
	tools/k8s/cluster down --dir $(K8S_DIR)
kyverno:
	@bash tools/kyverno/build.sh >/dev/null
crds:
	@bash tools/crds/fetch.sh >/dev/null
policy-test: kyverno
	"$$(bash tools/kyverno/build.sh)" test policies/kyverno/tests --detailed-results

demo: $(STAMP)
	@bash tools/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check selfheal kubesandbox tests bench
	$(VENV)/bin/ruff format --check selfheal kubesandbox bench tests
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) k8s kyverno crds
	$(VENV)/bin/pytest -q -n 2 --dist loadgroup

test: $(STAMP) system-tools lint typecheck unit

bench: $(STAMP)
	$(PY) -m bench

# The risk model against timelines backfilled into Debian's Prometheus (bench/backtest.py: lead times, false positives).
backtest: $(STAMP) system-tools
	$(PY) -m bench.backtest $(BACKTEST_ARGS)

# Kills, SIGTERMs and racing runs against a live sandbox, then what they left is checked (tools/soak.py).
# SOAK_ARGS=--short is CI's mode.
soak: $(STAMP)
	$(PY) tools/soak.py $(SOAK_ARGS)

test-image: $(STAMP)
	@bash tools/test-image.sh

clean:
	-bash tools/test-image.sh clean
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
