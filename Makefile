# The two commands: `make run` (the app, against the sandbox unless LivePerson is configured)
# and `make test` (every test). Both set themselves up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format sandbox system-deps clean

# BIND (host:port) moves `make run`: the app listens there; in sandbox mode the sandbox takes
# the next port (SANDBOX_PORT to choose another), and the redirect URI, the sandbox's registered
# callbacks and the banner follow. A port already taken stops it with one sentence.
BIND ?= 127.0.0.1:8000
APP_PORT = $(lastword $(subst :, ,$(BIND)))
SANDBOX_PORT ?= $(shell expr $(APP_PORT) + 1)
APP_URL = http://127.0.0.1:$(APP_PORT)
SANDBOX_AT = http://localhost:$(SANDBOX_PORT)
export BIND

run: $(VENV)/.installed
	@if [ -n "$$LP_ACCOUNT_ID" ]; then exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app; fi; \
	free() { $(BIN)/python -c 'import socket, sys; socket.create_server(("", int(sys.argv[1]))).close()' \
	  $$1 2>/dev/null || { echo "make run: port $$1 is in use: $$2." >&2; exit 1; }; }; \
	free $(APP_PORT) "start it on another with BIND=127.0.0.1:PORT (the sandbox takes PORT+1)"; \
	free $(SANDBOX_PORT) "move the sandbox with SANDBOX_PORT=PORT, or the app and the sandbox with BIND=127.0.0.1:PORT"; \
	export SANDBOX_URL=$(SANDBOX_AT) LP_REDIRECT_URI=$(APP_URL)/callback \
	  SANDBOX_REDIRECT_URIS=$(APP_URL)/callback,http://localhost:$(APP_PORT)/callback; \
	$(BIN)/python -m sandbox --host localhost --port $(SANDBOX_PORT) & sandbox=$$!; \
	trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	until $(BIN)/python -c 'import sys, urllib.request as u; u.urlopen(sys.argv[1], timeout=1)' \
	  $(SANDBOX_AT)/ 2>/dev/null; do \
	  kill -0 $$sandbox 2>/dev/null || { echo "make run: the sandbox could not start on port $(SANDBOX_PORT): move it with SANDBOX_PORT=PORT." >&2; exit 1; }; \
	  sleep 0.2; \
	done; \
	echo; \
	echo "  Functions Invoker: open $(APP_URL) (Ctrl-C stops it and the sandbox)"; \
	echo "  Sandbox LivePerson on $(SANDBOX_AT) — demo users (user/password):"; \
	echo "    agent/agent         FaaS-Invocation: reads and invokes"; \
	echo "    developer/developer FaaS-Developer: reads and invokes"; \
	echo "    faasadmin/faasadmin FaaS-Admin: reads, may not invoke"; \
	echo "    admin/admin         account admin, all three"; \
	echo "    viewer/viewer       no Functions permission"; \
	echo; \
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.dev-installed system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

sandbox: $(VENV)/.installed
	$(BIN)/python -m sandbox --host localhost --port $(SANDBOX_PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

system-deps:
	@.ci/system-deps

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# `make bench`: the whole invocation against a thin Flask forwarder, same run (bench/run.py;
# ~7 min, BENCH_QUICK=1 for a ~2 min smoke run). Results: bench/RESULTS.md (quick runs:
# bench/out/RESULTS-quick.md); raw data and py-spy profiles in bench/out/.
.PHONY: bench
bench: $(VENV)/.bench-installed
	@bench/setup.sh
	$(BIN)/python bench/run.py

$(VENV)/.bench-installed: requirements.txt requirements-bench.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $@

# `make screenshots`: the README's pictures (docs/screenshots/*.png), taken in Chromium against
# the sandbox and the app under gunicorn, as `make run` serves them.
.PHONY: screenshots
screenshots: $(VENV)/.dev-installed system-deps
	$(BIN)/python -m tests.browser.screenshots
