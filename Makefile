# The two commands: `make run` (the app, against the sandbox unless LivePerson is configured)
# and `make test` (every test). Both set themselves up on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format sandbox system-deps clean

run: $(VENV)/.installed
	@if [ -z "$$LP_ACCOUNT_ID" ]; then \
	  $(BIN)/python -m sandbox --host localhost --port 8001 & sandbox=$$!; \
	  trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	  echo; \
	  echo "  Functions Invoker: open http://127.0.0.1:8000 (Ctrl-C stops it and the sandbox)"; \
	  echo "  Sandbox LivePerson on http://localhost:8001 — demo users (user/password):"; \
	  echo "    agent/agent         FaaS-Invocation: reads and invokes"; \
	  echo "    developer/developer FaaS-Developer: reads and invokes"; \
	  echo "    faasadmin/faasadmin FaaS-Admin: reads, may not invoke"; \
	  echo "    admin/admin         account admin, all three"; \
	  echo "    viewer/viewer       no Functions permission"; \
	  echo; \
	  $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app; \
	else \
	  $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app; \
	fi

test: $(VENV)/.dev-installed system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

sandbox: $(VENV)/.installed
	$(BIN)/python -m sandbox --host localhost --port 8001

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
