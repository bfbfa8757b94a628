# The two commands: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := guide

.PHONY: run test test-postgres check bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Debian's chromium drives the browser tests (Playwright cannot download its own browser here).
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

run: $(VENV)/.installed
	$(BIN)/flask --app guide content check
	$(BIN)/flask --app guide demo
	@echo
	@echo "The guide is at http://127.0.0.1:$(PORT)/ — sign in as practitioner@example.org with password demo-password-2026"
	@echo
	$(BIN)/flask --app guide run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed /usr/bin/chromium
	$(BIN)/flask --app guide content check
	$(BIN)/python -m pytest -q

check: $(VENV)/.installed
	$(BIN)/flask --app guide content check

bench: $(VENV)/.installed
	$(BIN)/python bench/step_latency.py

clean:
	rm -rf $(VENV) instance

# The same suite (browser tests aside) against PostgreSQL: a throwaway cluster on loopback.
PG_BIN ?= /usr/lib/postgresql/15/bin
PG_DIR := /tmp/guide-test-postgres
PG_PORT ?= 55433
test-postgres: $(VENV)/.installed
	@test -x $(PG_BIN)/initdb || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)
	rm -rf $(PG_DIR) && mkdir -p $(PG_DIR) && chown postgres: $(PG_DIR)
	runuser -u postgres -- $(PG_BIN)/initdb -D $(PG_DIR)/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	runuser -u postgres -- $(PG_BIN)/pg_ctl -D $(PG_DIR)/data -l $(PG_DIR)/log -w -o "-p $(PG_PORT) -k $(PG_DIR) -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
	TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$(PG_PORT)/postgres $(BIN)/python -m pytest -q -m "not browser" -k "not wal_mode and not first_run"; \
	  status=$$?; runuser -u postgres -- $(PG_BIN)/pg_ctl -D $(PG_DIR)/data -m fast -w stop >/dev/null; exit $$status
