# The README's commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=1

.PHONY: install run serve worker test lint format check ci bench audit

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Install, migrate, load demo content, clean up old media, make a staff account, serve on http://127.0.0.1:8000
run: install
	$(DEV) $(BIN)/python manage.py migrate --noinput
	$(DEV) $(BIN)/python manage.py seed_demo
	$(DEV) $(BIN)/python manage.py cleanup_media
	$(DEV) $(BIN)/python manage.py create_staff_account --superuser
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:8000

# The background worker, for TASKS_BACKEND=database (production's default). `make run`
# needs none: with DEBUG, tasks run in the web process right after each commit.
worker: install
	$(DEV) TASKS_BACKEND=database $(BIN)/python manage.py run_worker

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(DEV) $(BIN)/python manage.py check
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run
	bash .ci/check-deploy

ci:
	bash .ci/run

# Load test on this machine: PostgreSQL and Redis on 127.0.0.1, gunicorn, wrk; about 10 minutes.
# `make bench SCALE=large`: 1,000,000 gifts and 2,000 stories, written to bench/results-large.md.
# Prints one table and writes it to bench/results.md (see bench/run.py). Fails if a bar is missed.
bench: install
	BENCH_SCALE=$(SCALE) $(BIN)/python bench/run.py

# Lighthouse on a phone (npm's lighthouse, Debian's Chromium): accessibility, best practices and
# SEO must score 100 on the home page, a story, a project and the donate page. Needs Node.js.
audit: install
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python tools/lighthouse.py
