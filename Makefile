# The two commands: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := guide

.PHONY: run test test-postgres test-scaled check bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian's chromium drives the browser tests (Playwright cannot download its own browser here).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# Graphviz's `dot` draws the flowchart diagrams on the server.
/usr/bin/dot:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null

# Debian's redis-server for the tests of throttle counts kept in Redis (GUIDE_REDIS_URL); each
# test starts and removes its own on a free loopback port.
/usr/bin/redis-server:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null

run: $(VENV)/.installed /usr/bin/dot
	$(BIN)/flask --app guide content check
	$(BIN)/flask --app guide demo
	@echo
	@echo "The guide is at http://127.0.0.1:$(PORT)/ — sign in as practitioner@example.org with password demo-password-2026"
	@echo "(with a task worker for background work: exports, expiry, nightly checks; stopped with the server)"
	@echo
	@$(BIN)/huey_consumer guide.worker.huey --workers 2 --worker-type thread --quiet & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask --app guide run --host 127.0.0.1 --port $(PORT)

# Every test against SQLite, then the same suite (browser tests aside) against PostgreSQL, then the
# scaled-out configuration (PostgreSQL + Redis + an S3-compatible server, scripts/with-redis-and-s3,
# which installs Debian's redis-server if it is missing) on the tests that use it. PostgreSQL: a
# throwaway cluster on loopback (scripts/with-postgres installs Debian's postgresql if it is
# missing). Fails if either run fails. Where PostgreSQL cannot be installed or started (no root,
# no apt) the PostgreSQL run is skipped with a loud notice, unless REQUIRE_POSTGRES=1 (CI sets it).
# PYTEST_ARGS narrows both runs, e.g. make test PYTEST_ARGS=tests/test_api.py
PYTEST_ARGS ?=
PG_PYTEST := -m "not browser" -k "not wal_mode and not first_run"
# What the scaled-out run exercises: the task queue on Redis with real workers, exports, records.
SCALED_PYTEST ?= tests/test_task_worker.py tests/test_rehearsal.py tests/records tests/training/test_training_sessions.py
test: $(VENV)/.installed /usr/bin/chromium /usr/bin/dot /usr/bin/redis-server
	$(BIN)/flask --app guide content check
	@echo "== The suite against SQLite"
	@sqlite=passed; postgres=passed; \
	$(BIN)/python -m pytest -q $(PYTEST_ARGS) || sqlite="FAILED ($$?)"; \
	echo "== The suite against PostgreSQL"; \
	POSTGRES=optional bash scripts/with-postgres $(BIN)/python -m pytest -q $(PG_PYTEST) $(PYTEST_ARGS); \
	status=$$?; if [ $$status = 75 ]; then postgres="SKIPPED (see the notice above)"; \
	elif [ $$status != 0 ]; then postgres="FAILED ($$status)"; fi; \
	echo "== The scaled-out configuration: PostgreSQL + Redis (task queue) + S3-compatible server"; \
	scaled=passed; POSTGRES=optional REDIS=optional bash scripts/with-postgres bash scripts/with-redis-and-s3 \
	    $(BIN)/python -m pytest -q $(PG_PYTEST) $(SCALED_PYTEST); \
	status=$$?; if [ $$status = 75 ]; then scaled="SKIPPED (see the notice above)"; \
	elif [ $$status != 0 ]; then scaled="FAILED ($$status)"; fi; \
	echo "== SQLite: $$sqlite; PostgreSQL: $$postgres; scaled-out: $$scaled"; \
	case "$$sqlite $$postgres $$scaled" in *FAILED*) exit 1;; esac

check: $(VENV)/.installed
	$(BIN)/flask --app guide content check

bench: $(VENV)/.installed
	$(BIN)/python bench/step_latency.py

clean:
	rm -rf $(VENV) instance

# The same suite (browser tests aside) against PostgreSQL only: fails if PostgreSQL cannot be had.
test-postgres: $(VENV)/.installed
	bash scripts/with-postgres $(BIN)/python -m pytest -q $(PG_PYTEST) $(PYTEST_ARGS)

# The scaled-out configuration alone: PostgreSQL + Redis + S3-compatible server, all throwaway.
test-scaled: $(VENV)/.installed
	bash scripts/with-postgres bash scripts/with-redis-and-s3 $(BIN)/python -m pytest -q $(PG_PYTEST) $(SCALED_PYTEST)
