# One place for the project's install and run steps. `make run` and `make test` are the README's
# two commands; both set everything up first on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL := var/models/triage.joblib
CORPUS := $(shell find nlu_data/complaints -name '*.jsonl') nlu_data/taxonomy.yml \
	$(wildcard classifiers/*.py classifiers/resources/*)

.PHONY: setup model run test lint bench bench-tools lock clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

model: $(MODEL)

$(MODEL): $(VENV)/.installed $(CORPUS)
	$(BIN)/hotline train

# The case service on the embedded SQLite database (DATABASE_URL selects PostgreSQL).
run: setup model
	$(BIN)/hotline serve --host 127.0.0.1 --port $${PORT:-8000}

lint: setup
	$(BIN)/ruff check .

test: setup model lint
	scripts/ensure-postgres
	$(BIN)/hotline check-data > /dev/null
	$(BIN)/pytest

bench-tools:
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

bench: setup model bench-tools
	$(BIN)/hotline bench classify
	$(BIN)/hotline bench service

# Re-pin requirements.lock from pyproject.toml in a clean environment.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet ".[dev]"
	.venv-lock/bin/pip freeze --exclude hotline > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var
