# Two commands do all the set-up on a fresh clone: `make demo` (the main job) and `make test`.
# Both depend on `make setup`, which installs into .venv and node_modules only when their
# inputs changed, so a second run installs nothing.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.stamp-python
NODE_STAMP := node_modules/.stamp-cdk-cli
DEBIAN_STAMP := $(VENV)/.stamp-debian
WIDGETS_JS := node_modules/.widget-manager/embed.js
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: setup lock test test-slow demo live-demo lab lint docs bench clean

setup: $(PY_STAMP) $(NODE_STAMP) $(WIDGETS_JS) $(LAB_SETTINGS) $(DEBIAN_STAMP)

# uv installs exactly uv.lock (every extra and the dev group) into .venv; uv itself comes from
# PyPI at the version the lock's dev group pins, so the tool that reads the lock is pinned too.
# Every installed module and the kit's own are compiled to bytecode here, as pip does: where
# PYTHONDONTWRITEBYTECODE is set nothing writes it later, and each process that imports
# aws-cdk-lib would compile it again (seconds of CPU for every CLI call, kernel and test process).
UV := $(BIN)/uv
UV_VERSION := $(shell sed -n 's/^ *"uv==\(.*\)",*$$/\1/p' pyproject.toml)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy

$(PY_STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(UV) --version 2>/dev/null | grep -qE "^uv $(UV_VERSION)( |$$)" || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --extra all --group dev --python $(BIN)/python --quiet --compile-bytecode
	$(BIN)/python -m compileall -q -j 0 dualalb_kit
	$(BIN)/python -c 'from dualalb_kit.batch import ensure_kernel; ensure_kernel()'
	@touch $@

# Refresh the lock on purpose: newest releases within pyproject.toml's ranges (moto stays pinned),
# then environment.yml from it, so conda users get the same pins.
lock: $(PY_STAMP)
	$(UV) lock --upgrade
	$(BIN)/python tools/environment_yml.py > environment.yml

# The pinned CDK CLI, installed from package-lock.json by the npm that ships with the kit's Node.
$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	$(BIN)/python -c 'import sys; from dualalb_kit.runtime import npm; sys.exit(npm(sys.argv[1:]))' \
		ci --no-audit --no-fund --loglevel=error
	@touch $@

# The widget manager's standalone JavaScript (pinned in runtime.py), so exported notebooks draw
# their widgets without the internet; after the CLI, whose `npm ci` empties node_modules.
$(WIDGETS_JS): $(NODE_STAMP) dualalb_kit/runtime.py
	$(BIN)/python -c 'from dualalb_kit.runtime import install_widget_manager; install_widget_manager()'
	@touch $@

# JupyterLab's defaults for this environment: no "Jupyter news?" prompt, no update check.
$(LAB_SETTINGS): dualalb_kit/data/lab/overrides.json $(PY_STAMP)
	mkdir -p $(@D) && install -m 644 $< $@

# Debian's packages the tests and the live sandbox run: Chromium for the JupyterLab browser test,
# HAProxy for the live sandbox's load balancers. Installed when missing and we are root (as in
# CI). The step counts as done only once both are there; without them setup says what to install,
# and the tests that need them fail with the same message.
DEBIAN_PACKAGES := chromium:/usr/bin/chromium haproxy:/usr/sbin/haproxy
$(DEBIAN_STAMP): $(PY_STAMP)
	@missing=""; for entry in $(DEBIAN_PACKAGES); do [ -x "$${entry#*:}" ] || missing="$$missing $${entry%%:*}"; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@missing=""; for entry in $(DEBIAN_PACKAGES); do [ -x "$${entry#*:}" ] || missing="$$missing $${entry%%:*}"; done; \
	if [ -z "$$missing" ]; then touch $@; else \
		echo "warning: install Debian's$$missing (as root: apt-get install$$missing): the browser test needs" \
			"chromium, the live sandbox haproxy; \`make test-slow\` fails until then" >&2; \
	fi

# -rs prints the reason of every skip; the README lists the only allowed ones. `make test` runs
# every test but the end-to-end scenarios marked slow, in two pytest-xdist workers (each with its
# own session sandbox; a module's tests stay on one worker, so its fixtures are built once);
# `make test-slow` runs those: first every slow module but the live sandbox's in two workers, then
# the live sandbox's tests alone, one after another (they measure CPU and latency in real time, and
# an open-loop load generator on a busy machine counts its own lateness as latency). CI (.ci/run)
# runs both.
test: setup
	$(BIN)/python -m pytest -q -rs --durations=15 -m "not slow" -n 2 --dist loadfile

test-slow: setup
	$(BIN)/python -m pytest -q -rs --durations=15 -m "slow and not live" -n 2 --dist loadfile
	$(BIN)/python -m pytest -q -rs --durations=15 -m "slow and live"

demo: setup
	$(BIN)/dualalb-kit demo

# The right-sizing loop on measured data in the live sandbox (about 15 minutes, real time).
live-demo: setup
	$(BIN)/dualalb-kit live-demo

# JupyterLab on loopback with the kit's kernel, rooted at the checkout (params/ in reach) and opened
# on notebooks/; no news prompt or update check (root, as in containers, needs --allow-root).
lab: setup
	$(BIN)/jupyter lab --ip=127.0.0.1 $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The documentation site (docs/, mkdocs.yml) into site/; --strict: any warning fails the build.
docs: setup
	$(BIN)/mkdocs build --strict --quiet

# Each benchmark script's printed report, recorded with a header (date, commit, load) in
# docs/benchmarks/<script>.txt for the docs' benchmarks page; BENCH=benchmarks/bench_x.py for one.
BENCH ?= $(wildcard benchmarks/bench_*.py)
bench: setup
	@for script in $(BENCH); do echo "== $$script"; $(BIN)/python benchmarks/record.py $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules cdk.out out site
