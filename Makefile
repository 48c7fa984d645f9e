# One place for the project's install and run steps. `make run` and `make test` are the README's
# two commands; both set everything up first on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL := var/models/triage.joblib
CORPUS := $(shell find nlu_data/complaints -name '*.jsonl') nlu_data/taxonomy.yml \
	$(wildcard classifiers/*.py classifiers/resources/*)

# Rasa 3.6 needs Python 3.10 and old libraries: its own virtual environment.
PYTHON310 ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10) \
	$(shell command -v python3.10))
RASA_VENV := .venv-rasa
BOT_INPUTS := config.yml bot/domain.yml $(wildcard bot/data/*.yml nlu_data/bot/train/*.yml) \
	$(wildcard classifiers/resources/*)

.PHONY: setup model run test lint bench bench-tools browser lock clean rasa-setup bot-model rasa-lock

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

rasa-setup: $(RASA_VENV)/.installed

$(RASA_VENV)/.installed: bot/requirements.lock
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet 'pip<24.1'
	$(RASA_VENV)/bin/pip install --quiet -r bot/requirements.lock
	touch $@

# `hotline bot train` skips training when a model for exactly these inputs exists.
bot-model: setup rasa-setup
	$(BIN)/hotline bot train

model: $(MODEL)

$(MODEL): $(VENV)/.installed $(CORPUS)
	$(BIN)/hotline train

# The case service on the embedded SQLite database (DATABASE_URL selects PostgreSQL).
# The whole hotline: case service (embedded SQLite unless DATABASE_URL), Rasa and its actions.
run: setup model bot-model
	$(BIN)/hotline up --host 127.0.0.1 --port $${PORT:-8000}

lint: setup
	$(BIN)/ruff check .

test: setup model lint bot-model browser
	scripts/ensure-postgres
	$(BIN)/hotline check-data > /dev/null
	$(BIN)/hotline bot validate > var/bot-validate.log 2>&1 || { cat var/bot-validate.log; exit 1; }
	$(BIN)/pytest

bench-tools:
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

# Debian's Chromium (and a Chinese font for readable screenshots) for the workbench's browser
# tests and benchmark; Playwright drives it through executable_path, no browser download.
browser:
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
		{ apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei; }

bench: setup model bench-tools browser
	$(BIN)/hotline bench classify
	$(BIN)/hotline bench service
	$(BIN)/hotline bench workbench

# Re-pin requirements.lock from pyproject.toml in a clean environment.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet ".[dev]"
	.venv-lock/bin/pip freeze --exclude hotline > requirements.lock
	rm -rf .venv-lock

rasa-lock:
	rm -rf .venv-rasa-lock && $(PYTHON310) -m venv .venv-rasa-lock
	.venv-rasa-lock/bin/pip install --quiet 'pip<24.1'
	.venv-rasa-lock/bin/pip install --quiet -r bot/requirements.txt
	{ echo '# Rasa environment (Python 3.10), pinned: `make rasa-lock` regenerates it from bot/requirements.txt.'; \
	  .venv-rasa-lock/bin/pip freeze; } > bot/requirements.lock
	rm -rf .venv-rasa-lock

clean:
	rm -rf $(VENV) var
