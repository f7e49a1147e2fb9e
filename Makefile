# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Test servers are used when they answer; tests needing them skip otherwise.
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# Parallel test workers (pytest-xdist); 1 runs them in one process.
TEST_WORKERS ?= 2

.PHONY: run test chromium lint typecheck unit bench model clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# With a messenger token (environment or .env) the bot goes live; with none, the training sandbox
# starts on 127.0.0.1:8080. `python -m bot run` itself never falls back to the sandbox.
run: $(STAMP)
	@rc=0; $(PY) -m bot check 2>/dev/null || rc=$$?; \
	if [ $$rc -eq 0 ]; then exec $(PY) -m bot run; \
	elif [ $$rc -eq 3 ]; then exec $(PY) -m bot sandbox $(SANDBOX_ARGS); \
	else $(PY) -m bot check; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check bot dialogs storage handlers tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy bot dialogs storage

# The sandbox page's browser test drives Debian's Chromium (Playwright never downloads a browser).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji)

test: $(STAMP) lint typecheck chromium
	@set -e; \
	if $(PY) scripts/port_open.py 127.0.0.1 5432; then export DATABASE_URL="$${DATABASE_URL:-$(PG_URL)}"; else echo "PostgreSQL not reachable: its tests will be skipped"; fi; \
	if $(PY) scripts/port_open.py 127.0.0.1 6379; then export REDIS_URL="$${REDIS_URL:-$(REDIS_TEST_URL)}"; else echo "Redis not reachable: its tests will be skipped"; fi; \
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS)

# The pure tier only: no database, Redis, subprocess or socket (seconds).
unit: $(STAMP)
	$(VENV)/bin/pytest -q tests/unit

bench: $(STAMP)
	$(PY) bench/classify.py
	$(PY) bench/notices.py
	$(PY) bench/lanes.py
	$(PY) bench/faults.py
	$(PY) bench/intake.py

model: $(STAMP)
	$(PY) -m bot.classify.build

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
