# Gatehouse: the front door. `make run` shows it working; `make test` proves it.
# Both install what they need: a project-local Python venv with the pinned emulator.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
WITH_EMULATOR := scripts/with-emulator.sh
# cargo-nextest when present (faster, one process per test); plain cargo test otherwise.
TEST_RUNNER := $(shell cargo nextest --version >/dev/null 2>&1 && echo "nextest run --no-fail-fast" || echo test)
# Where cargo builds, as cargo itself answers (honours CARGO_TARGET_DIR and build.target-dir).
TARGET_DIR := $(shell cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export GATEHOUSE_TARGET_DIR := $(TARGET_DIR)

# Tools the Makefile installs from crates.io into the project (pinned), never by hand.
TOOLS := .tools
CARGO_MUTANTS_VERSION := 27.1.0
# Tools for the deployment (infra/), pinned, each in its own venv under .tools/: the template
# linters (checkov pins an older boto3 than the emulator's) and the Lambda build.
LINT_VENV := $(TOOLS)/lint-venv
BUILD_VENV := $(TOOLS)/build-venv
LAMBDA_TARGET := aarch64-unknown-linux-gnu
LAMBDA_DIR := $(TARGET_DIR)/lambda
FUNCTIONS := people-events account-created reconcile scim

.PHONY: help run test unit lint fmt venv clean mutants bench bench-fanout bench-coldstart bench-backfill bench-scim
.PHONY: build lint-infra test-infra world test-cargo-lambda test-scim chaos

help:
	@echo "make run    - the demo: a company in the local emulator, run through the real functions"
	@echo "make test   - unit tests and integration tests against the local emulator"
	@echo "make unit   - unit tests of the pure core only (no emulator)"
	@echo "make lint   - layering of the shared crates, rustfmt, clippy with warnings as errors"
	@echo "make mutants - mutation testing of the pure core (long: see docs/testing.md)"
	@echo "make bench  - every benchmark, written to docs/benchmarks.md (long: about 25 minutes)"
	@echo "make build  - the release functions for Lambda (arm64 zips, cargo-lambda); prints their sizes"
	@echo "make chaos  - offboarding under random faults, a bigger run (SEED=n EVENTS=n; docs/testing.md)"
	@echo "make world  - a local world on demand for cargo lambda watch/invoke (README); until Ctrl-C"
	@echo "             (make lint also lints infra/; make test also deploys it in the emulator)"

$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	cargo build --locked -p people-events -p account-created -p reconcile -p scim -p gatehouse-tests --bins
	$(WITH_EMULATOR) $(TARGET_DIR)/debug/demo

test: venv
	$(PY) -m unittest discover -s scripts -t scripts -p 'test_*.py'
	$(PY) -m unittest discover -s schema -t schema -p 'test_*.py'
	cargo build --locked --workspace --all-targets
	$(WITH_EMULATOR) cargo $(TEST_RUNNER) --locked --workspace
	# Again, with IAM authorization enforced: each world gets an emulator of its own that checks
	# every call of the functions against their execution roles (infra/template.yaml) and, in
	# member accounts, the provisioner role (infra/member-account.yaml).
	GATEHOUSE_TEST_AUTHORIZATION=enforced $(WITH_EMULATOR) cargo $(TEST_RUNNER) --locked -p gatehouse-tests
	# The by-hand path, with the real client: a world, `cargo lambda watch`, `cargo lambda invoke`.
	$(PY) scripts/smoke_cargo_lambda.py
	# The SCIM function against two public SCIM conformance suites, through its function URL.
	$(PY) scripts/scim_conformance.py

# The pure core only: no emulator, and no AWS SDK to compile.
unit:
	cargo $(TEST_RUNNER) --locked -p gatehouse-core

lint:
	python3 scripts/check_layers.py
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean:
	rm -rf $(VENV) $(TOOLS) $(TARGET_DIR)/localworld $(TARGET_DIR)/mutants

$(TOOLS)/bin/cargo-mutants:
	cargo install --locked --root $(TOOLS) --version $(CARGO_MUTANTS_VERSION) cargo-mutants

# Mutation testing of the pure core: the share of deliberately broken versions of it that the
# tests catch. Not part of CI (about half an hour here); the score is in docs/testing.md.
mutants: $(TOOLS)/bin/cargo-mutants
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" cargo mutants --package gatehouse-core --jobs 2 \
		--output $(TARGET_DIR)/mutants

# Benchmarks: not part of CI (they measure, they do not assert timings; the AWS calls of the
# common events are asserted by tests/tests/call_counts.rs). `make bench` runs them all and
# writes docs/benchmarks.md; BENCH_ARGS=--quick runs each small, as a smoke test.
BENCH_BINS := --bin people-events --bin scim --bin bench-fanout --bin bench-coldstart --bin bench-backfill --bin bench-scim
bench: venv build
	cargo build --locked --release -p people-events -p scim -p gatehouse-tests $(BENCH_BINS)
	$(PY) scripts/bench.py $(TARGET_DIR) $(BENCH_ARGS)

bench-fanout: venv
	cargo build --locked --release -p people-events -p gatehouse-tests --bin people-events --bin bench-fanout
	$(WITH_EMULATOR) $(TARGET_DIR)/release/bench-fanout stub $(TARGET_DIR)/release/people-events 50 50 200 1000
	$(WITH_EMULATOR) $(TARGET_DIR)/release/bench-fanout emulator 50 50 128 16

bench-coldstart: venv
	cargo build --locked --release -p people-events
	cargo build --locked --release -p gatehouse-tests --bin bench-coldstart
	$(WITH_EMULATOR) $(TARGET_DIR)/release/bench-coldstart $(TARGET_DIR)/release/people-events 10

# Offboarding under faults (docs/testing.md): a random life story for a company, played through
# the functions with a fifth of all AWS calls failing, then checked against the model. `make
# test` runs the default seed; this is the bigger run, any seed: make chaos SEED=7 EVENTS=1000.
SEED ?= 20261127
EVENTS ?= 300
chaos: venv
	GATEHOUSE_CHAOS_SEED=$(SEED) GATEHOUSE_CHAOS_EVENTS=$(EVENTS) $(WITH_EMULATOR) \
		cargo $(TEST_RUNNER) --locked -p gatehouse-tests --test chaos $(if $(findstring nextest,$(TEST_RUNNER)),--no-capture,-- --nocapture)

bench-backfill: venv
	cargo build --locked --release -p gatehouse-tests --bin bench-backfill
	$(WITH_EMULATOR) $(TARGET_DIR)/release/bench-backfill 1000

# Every SCIM operation through the real scim binary: round-trip times and AWS calls.
bench-scim: venv
	cargo build --locked --release -p scim -p gatehouse-tests --bin scim --bin bench-scim
	$(WITH_EMULATOR) $(TARGET_DIR)/release/bench-scim 20

# Deployment (infra/). `make lint` and `make test` take these in as prerequisites.
lint: lint-infra
test: test-infra

$(LINT_VENV)/.installed: requirements-lint.txt
	python3 -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $@

$(BUILD_VENV)/.installed: requirements-build.txt
	python3 -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-build.txt
	touch $@

# Both templates through cfn-lint and checkov (offline: no download, no update check; every
# skip is justified in the resource's Metadata), then the member stack's policy documents
# against shared/policies/ and the SAM expansion of the functions stack (static, no emulator).
lint-infra: venv $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/cfn-lint infra/template.yaml infra/member-account.yaml
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(LINT_VENV)/bin/checkov --quiet --compact --skip-download \
		--framework cloudformation -f infra/template.yaml -f infra/member-account.yaml
	$(PY) -m unittest discover -s infra/tests -t infra/tests -p 'test_documents.py'

# Both stacks deployed into the emulator and read back (infra/tests/test_*_stack.py).
test-infra: venv
	$(WITH_EMULATOR) $(PY) -m unittest discover -s infra/tests -t infra/tests -p 'test_*_stack.py'

# The release functions, cross-compiled for Lambda's arm64 by cargo-lambda with zig (both from
# requirements-build.txt). cargo-lambda's cargo-zigbuild runs `python -m ziglang` with the python
# CARGO_ZIGBUILD_PYTHON_PATH names: the build venv's, which has ziglang. Zips under
# $(LAMBDA_DIR)/<function>/bootstrap.zip, as `sam build` would make them.
build: $(BUILD_VENV)/.installed
	rustup target list --installed | grep -qx $(LAMBDA_TARGET) || rustup target add $(LAMBDA_TARGET)
	CARGO_ZIGBUILD_PYTHON_PATH="$(CURDIR)/$(BUILD_VENV)/bin/python" $(BUILD_VENV)/bin/cargo-lambda lambda build \
		--release --locked --target $(LAMBDA_TARGET) --output-format zip --lambda-dir $(LAMBDA_DIR) \
		$(addprefix --package ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do \
		echo "$$f: $$(stat -c %s $(LAMBDA_DIR)/$$f/bootstrap.zip) bytes ($(LAMBDA_DIR)/$$f/bootstrap.zip)"; \
	done

# Invoking the functions by hand (README, "Invoking a function by hand (cargo-lambda)"): the
# emulator on a known port (GATEHOUSE_WORLD_PORT, default 4599) with the world the functions
# need, its environment printed as `export` lines; runs until Ctrl-C. `cargo world <command>`
# (.cargo/config.toml) talks to it: env, users, outcomes, new-account, work.
world: venv
	cargo build --locked -p gatehouse-tests --bin gatehouse-world
	$(TARGET_DIR)/debug/gatehouse-world serve

# The smoke test of that path alone (make test runs it too).
test-cargo-lambda: venv
	cargo build --locked -p people-events -p account-created -p reconcile -p gatehouse-tests --bins
	$(PY) scripts/smoke_cargo_lambda.py

# The SCIM conformance suites alone (make test runs them too): scim2-tester and scim-sanity
# against the `scim` function behind `cargo lambda watch`'s function URL, in a local world;
# accepted exceptions, each justified, in scripts/scim_conformance_exceptions.toml.
test-scim: venv
	cargo build --locked -p scim -p gatehouse-tests --bin gatehouse-world
	$(PY) scripts/scim_conformance.py
