# Every target bootstraps its own virtualenv; only python3 and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv specs graphql-specs recorded-routes sdk-names search-examples generate check-generated fidelity input-schemas toolsnaps test test-tests test-contract demo bench contract lint clean image

# The install (issue 16: ~45 s of a fresh clone's CI run, most of it pip resolving and fetching one package after
# another). uv, a well-kept installer, fetches and installs in parallel and resolves the same versions (`pip freeze`
# compared; uv itself is the one addition); pip itself is upgraded in the same step, as the tests use it
# (tests/_install.py). uv reads no pip configuration (index, constraints): set UV_INDEX_URL & co. where pip's is
# needed. Where uv cannot be installed or fails, pip installs as before.
# uv gets into the virtualenv by python3's own pip where it has one (pip --python; ensurepip, which `venv` runs
# unless told not to, cost ~8 CPU s and 7-16 s under load, and uv installs pip anyway), else by ensurepip's.
PIP_QUIET := --quiet --disable-pip-version-check
ENSUREPIP = { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --default-pip >/dev/null; }
# Bytecode at install: an editable install compiles nothing, and a first start that compiles the generated tables
# takes ~0.2 s and ~30 MB more (issue 16); pip compiles the dependencies as it installs them, here compileall does
# (uv's --compile-bytecode would, but only after installing: this way it overlaps the collection below). A file
# of a dependency that does not compile is skipped, as pip and uv skip it. The image compiles its own (Dockerfile).
# The collection of the tests (all but the contract run's, which has one process) stores them and the plugin
# modules (schemathesis, hypothesis, anyio...) as pytest rewrites them: otherwise every process of `make test`
# rewrites them at once on a fresh clone (~6 CPU s for the test modules, ~1.7 for the plugins, in each of the
# three xdist workers, measured). A test module that fails to import fails `make test`, not the install.
# The wheels the install tests put in a fresh virtualenv with no index (tests/_install.py) are gathered here, beside
# those two: the tests reach no network (~30 s from an empty cache, both interpreters; once per dependency set).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install $(PIP_QUIET) uv 2>/dev/null \
		|| { $(ENSUREPIP) && $(BIN)/python -m pip install $(PIP_QUIET) uv; } \
		|| echo "make: uv could not be installed" >&2
	if [ -x $(BIN)/uv ] && $(BIN)/uv pip install --quiet --python $(BIN)/python --upgrade-package pip pip -e '.[dev]'; \
	then :; else \
		echo "make: installing with pip" >&2; \
		$(ENSUREPIP) && $(BIN)/python -m pip install $(PIP_QUIET) --upgrade pip \
		&& $(BIN)/python -m pip install $(PIP_QUIET) -e '.[dev]'; \
	fi
	{ $(BIN)/python -m compileall -q -j 0 oneapi_mcp generated plugins codegen && { $(BIN)/python -m compileall \
		-q -j 0 $(VENV)/lib >/dev/null || echo "make: some installed files do not compile (skipped)" >&2; }; } \
		& compiling=$$!; \
	$(BIN)/python tests/_install.py & gathering=$$!; \
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -p no:cacheprovider --collect-only \
		--ignore=tests/test_contract_mock.py >/dev/null \
		|| echo "make: collecting the tests failed (make test says why); not cached" >&2; \
	wait $$gathering || echo "make: gathering the install tests' wheels failed (tests/_install.py says why)" >&2; \
	wait $$compiling
	touch $(STAMP)

venv: $(STAMP)

## make specs: download zscaler-oneapi-sdk-python 1.0.0 and the zscaler-sdk-python 1.11.3 sdist and rewrite specs/
## (the only target that needs the network)
specs: $(STAMP)
	$(BIN)/python -m oneapi_mcp.codegen specs

## make graphql-specs: only specs/zins.yaml and specs/zms.yaml (`make specs` writes them too), from the GraphQL
## documents in the pinned SDK sdist's source, or in SDK=<unpacked sdist>/zscaler
graphql-specs: $(STAMP)
	$(BIN)/python -m oneapi_mcp.codegen graphql-specs $(if $(SDK),--sdk $(SDK))

## make recorded-routes: index the recorded real traffic (RECORDED=<dir of <svc>/cassettes>) into specs/recorded_routes.json
# the shared reference copy until the trimmed recordings are vendored under tests/recorded/
RECORDED ?= ../shared/reference/recorded
recorded-routes: $(STAMP)
	$(BIN)/python -m oneapi_mcp.codegen recorded-routes --recorded $(RECORDED)

## make sdk-names: the names Zscaler's SDK gives each operation (methods, resource client, docstring), matched by method
## and path, into specs/sdk_names.json for search; from SDK=<unpacked sdist>/zscaler, or the pinned sdist, fetched
sdk-names: $(STAMP)
	$(BIN)/python -m oneapi_mcp.codegen sdk-names $(if $(SDK),--sdk $(SDK))

## make search-examples: the benchmark's requests (tests/search_benchmark.yaml) as search reads them, under each
## operation that answers them, into specs/search_examples.json (search indexes them as the operation's words)
search-examples: $(STAMP)
	$(BIN)/python -m oneapi_mcp._search_eval

## make generate: specs/ + overlays -> generated/ (skips unchanged services), then the tool-surface diff
generate: $(STAMP)
	$(BIN)/python -m oneapi_mcp.codegen generate

## make check-generated: fail when generated/ or specs/names.lock.json is stale against specs/ (regenerates the
## services whose inputs' fingerprint or files changed; FULL=1 regenerates all of them)
check-generated: $(STAMP)
	$(TIMED) $(BIN)/python -m oneapi_mcp.codegen check $(if $(FULL),--full)

## make input-schemas: store the built-in composite/discovery tools' listed input schemas (from their input models)
## in oneapi_mcp/composite/input_schemas.json, so that start-up builds no model (tests fail when it is stale)
input-schemas: $(STAMP)
	$(BIN)/python -m oneapi_mcp.composite._stored

## make toolsnaps: accept the current tool surface into tests/__toolsnaps__
toolsnaps: input-schemas
	UPDATE_TOOLSNAPS=1 $(BIN)/python -m pytest -q tests/test_toolsnaps.py

## make demo: the HTTP server on the embedded mock, a scripted agent session, then keep serving (Ctrl-C stops)
demo: $(STAMP)
	$(BIN)/oneapi-mcp demo --port $(or $(PORT),8000)

## make fidelity: recorded real traffic (tests/recorded/) against the overlaid specs; a report, fails below target
fidelity: $(STAMP)
	$(TIMED) $(BIN)/python -m oneapi_mcp._fidelity

## make test: lint and type check, generated/ up to date, recorded-traffic fidelity, the contract tests and the other
## tests, all at once (each part's output is shown when it ends; any failing part fails the run)
# The parts run concurrently: the tests spend much of their time waiting on servers, sockets and subprocesses, and
# the contract run (one process: its reached-every-operation check counts in process) and the checks fill those
# waits. JOBS: xdist workers of the main run, whole files per worker (0: in this process), the longest files first
# (tests/conftest.py, LONGEST_FIRST, in collection order: --no-loadscope-reorder); one more than cores, as its
# workers wait about half their time (baseline: 413 CPU s in 380 s on two workers). bench/suite_times.sh times
# every part; TIMED is the prefix it puts before each part's commands (/usr/bin/time ...).
JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
TIMED ?=
# pytest rewrites the asserts of the test modules and of its plugins' whole packages (schemathesis, hypothesis, anyio:
# ~360 modules) in every process it starts, ~3 s of CPU each time unless it may keep them as bytecode: the tests
# may, whatever the environment says (an empty PYTHONDONTWRITEBYTECODE is unset for Python)
test test-tests test-contract: export PYTHONDONTWRITEBYTECODE :=
test: $(STAMP)
	@$(MAKE) --no-print-directory -j --output-sync=target lint check-generated fidelity test-tests test-contract

## make test-tests / test-contract: the two pytest parts of `make test` on their own
test-tests: $(STAMP)
	$(TIMED) $(BIN)/python -m pytest -q -p no:schemathesis -n $(JOBS) --dist loadfile --no-loadscope-reorder --ignore=tests/test_contract_mock.py

test-contract: $(STAMP)
	$(TIMED) $(BIN)/python -m pytest -q -p no:xdist tests/test_contract_mock.py

## make contract: schemathesis checks against the mock; with BASE_URL=... and ZSCALER_* credentials, read-only
## GETs against that tenant and a drift report (never a write)
contract: $(STAMP)
ifdef BASE_URL
	$(BIN)/python -m oneapi_mcp._contract --base-url $(BASE_URL)
else
	$(BIN)/python -m pytest -q -s tests/test_contract_mock.py
endif

VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' oneapi_mcp/__init__.py)
IMAGE ?= oneapi-mcp:$(VERSION)
BASE ?= localhost/oneapi-mcp-base:bookworm
PIP_CACHE ?= $(HOME)/.cache/pip
# the CA bundle pip trusts on this host (a TLS-inspecting proxy's CA), handed to the build stage only
CA_BUNDLE ?= $(or $(PIP_CERT),/etc/ssl/certs/ca-certificates.crt)
# chroot: RUN steps need no OCI runtime or cgroups (works inside containers and CI); oci elsewhere is fine too
ISOLATION ?= chroot

## make image: the container image $(IMAGE) with podman (as root); the Debian base is debootstrapped
## first when it is missing (deploy/base-image.sh), so no registry is needed. EXTRAS=charts adds charts.
image:
	BASE=$(BASE) deploy/base-image.sh
	mkdir -p $(PIP_CACHE)
	podman build --format docker --isolation $(ISOLATION) --network host --volume $(PIP_CACHE):/root/.cache/pip \
		--volume $(CA_BUNDLE):/run/host-ca.crt:ro --build-arg CA_BUNDLE=/run/host-ca.crt \
		--build-arg BASE=$(BASE) --build-arg EXTRAS=$(EXTRAS) --tag $(IMAGE) .

bench: $(STAMP)
	$(BIN)/python bench/run.py

## make lint: ruff over everything, mypy over oneapi_mcp/ (configured in pyproject.toml)
lint: $(STAMP)
	$(TIMED) $(BIN)/ruff check codegen oneapi_mcp plugins tests bench examples
	$(TIMED) $(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
