# The two commands: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := guide

.PHONY: run test check bench clean

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
