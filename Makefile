# MeetNow: `make run` to try it, `make test` to test it. Needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Where `make run` serves: `make run PORT=8100 HOST=0.0.0.0`.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install migrate clean format messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_roles

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_dev --host $(HOST) --port $(PORT)

# Two runs: the suite on two xdist workers, then tests/e2e in one process (they share
# one broker and channel layer, and their transactional flushes must come last).
test: install
	$(BIN)/python -m pytest -n 2 --ignore=tests/e2e $(PYTEST_ARGS)
	$(BIN)/python -m pytest tests/e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh locale/*/LC_MESSAGES/django.po from the code (needs xgettext: apt-get install
# gettext) and compile the .mo files in Python (polib). The .mo files are committed, so
# `make run` needs no gettext. Translate the new entries, then run it again.
messages: install
	$(BIN)/python -m meetnow.lib.catalogues

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
