# One place for the project's install and run steps. `make run` and `make test` are the README's
# two commands; both set everything up first on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL := var/models/triage.joblib
CORPUS := $(shell find nlu_data -name '*.jsonl' -o -name 'taxonomy.yml') $(wildcard classifiers/*.py classifiers/resources/*)

.PHONY: setup model run test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

model: $(MODEL)

$(MODEL): $(VENV)/.installed $(CORPUS)
	$(BIN)/hotline train

run: setup model
	$(BIN)/hotline serve --host 127.0.0.1 --port $${PORT:-8000}

lint: setup
	$(BIN)/ruff check .

test: setup model lint
	$(BIN)/hotline check-data > /dev/null
	$(BIN)/pytest

bench: setup model
	$(BIN)/hotline bench classify

clean:
	rm -rf $(VENV) var
