# meshops.istio - set-up, tests, demo and benchmark.
#
#   make demo    set up, then upgrade the sample mesh on the simulated cluster (upgrade.yml, waves, finalize)
#   make demo-rollback   set up, then upgrade half-way and roll back
#   make test    set up, then pytest + molecule + ansible-lint + ansible-test sanity + changelog lint + test-real
#   make test-real   set up, then the tests on the real cluster (tests/realcluster; needs Go)
#   make real-cluster   set up, build and start the real cluster with the sample mesh (until Ctrl-C)
#   make bench   set up, then print the benchmark figures
#
# Set-up is idempotent: `make venv` and `make tools` do nothing when their stamp files (named after a
# hash of what they install) are there already.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

HOST_PYTHON ?= python3
VENV := .venv
TOOLS := .tools/bin
PYTHON := $(CURDIR)/$(VENV)/bin/python
COLLECTION_LINK := .build/collections/ansible_collections/meshops/istio
# pytest options; the simulated cluster's fixtures are per worker, so xdist is safe
PYTEST_ARGS ?= -n auto
export PYTEST_ARGS

hash_of = $(shell cat $(1) | $(HOST_PYTHON) -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')
VENV_STAMP := $(VENV)/.installed-$(call hash_of,requirements.txt requirements-dev.txt scripts/requirements-checks.txt)
TOOLS_STAMP := $(TOOLS)/.installed-$(call hash_of,scripts/install_tools.py)

export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(TOOLS):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build/collections
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup venv tools collection test pytest lint sanity changelog-lint molecule test-real real-cluster demo demo-rollback bench clean distclean

help:
	@echo "make demo            set up, then upgrade the sample mesh 1.27.3 -> 1.28.1 on the simulated cluster and print the audit"
	@echo "make demo REAL=1     the same on the real cluster (1.28.2 -> 1.29.1; needs Go, builds it the first time)"
	@echo "make demo-rollback   set up, then upgrade the sample mesh half-way and roll it back"
	@echo "make test            set up, then pytest, molecule, ansible-lint, ansible-test sanity and changelog lint"
	@echo "make bench           set up, then print benchmark figures (never run by the tests)"
	@echo "make setup           only the set-up: venv, tools, collection link"
	@echo "make pytest | lint | sanity | molecule | changelog-lint | test-real   one step of 'make test'"
	@echo "make real-cluster    set up, build and start the real cluster with the sample mesh on Istio 1.28.2 (until Ctrl-C)"
	@echo "make clean           remove .build and test output; 'make distclean' also removes .venv, .tools, .cache"

setup: venv tools collection

venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-dev.txt scripts/requirements-checks.txt
	@$(HOST_PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "error: Python 3.11 or newer is needed (found %s); set HOST_PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	@test -x $(VENV)/bin/python || $(HOST_PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt -r scripts/requirements-checks.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP): scripts/install_tools.py
	$(HOST_PYTHON) scripts/install_tools.py --cache .cache --bin $(TOOLS)
	@rm -f $(TOOLS)/.installed-*
	@touch $@

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@test -L $(COLLECTION_LINK) || ln -s $(CURDIR) $(COLLECTION_LINK)

test: setup
	@bash scripts/run_checks.sh

pytest: setup
	$(PYTHON) -m pytest $(PYTEST_ARGS)

lint: setup
	ansible-lint

sanity: setup
	$(PYTHON) scripts/sanity.py

changelog-lint: setup
	antsibull-changelog lint

molecule: setup
	bash scripts/molecule.sh

test-real: setup
	bash scripts/test_real.sh

# the kubeconfig goes to .build/realcluster/kubeconfig; the cluster's files and logs to .build/realcluster/state
real-cluster: setup
	@mkdir -p .build/realcluster
	$(PYTHON) -m tests.realcluster --kubeconfig .build/realcluster/kubeconfig --state-dir .build/realcluster/state \
		--istio 1.28.2 --mesh --rollout-delay 0.5

demo: setup
	@REAL=$(REAL) bash scripts/demo/run.sh

demo-rollback: setup
	@REAL=$(REAL) bash scripts/demo/rollback.sh

bench: setup
	$(PYTHON) benchmarks/run.py

clean:
	rm -rf .build tests/output .pytest_cache

distclean: clean
	rm -rf $(VENV) .tools .cache
