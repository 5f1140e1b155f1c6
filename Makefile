# One command per job. `make test` works on a fresh clone with only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock check demo walkthrough test lint format bench bench-concurrency bench-http bench-centraal clean

# Every Python dependency, test tools and ruff included, comes pinned with hashes from requirements.lock.
$(STAMP): pyproject.toml requirements.lock package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

# Translations are compiled at setup (GNU gettext's msgfmt), never committed. No settings are
# needed for that: django-admin compiles the locale folder of the package it runs in.
PO := src/blauweknop/locale/en/LC_MESSAGES/django.po
MO := $(PO:.po=.mo)
$(MO): $(PO) $(STAMP)
	command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext >/dev/null)
	cd src/blauweknop && DJANGO_SETTINGS_MODULE= ../../$(BIN)/django-admin compilemessages -v0

install: $(STAMP) $(MO)

# After a change of dependencies in pyproject.toml: pin them all again, with hashes, from PyPI alone.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --generate-hashes --extra test \
		--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# Lint, migrations in step with the models, and Django's deployment checks with production settings.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run -v1
	scripts/check-deploy.sh $(BIN)/python

PORT ?= 8000

# The demo: every role in one web process, beside it a worker and the scheduler for the background
# work, the demo world in embedded SQLite under var/. Only the demo
# makes its own secrets (first_run, once) and keys (at first use); a real deployment sets them.
demo: export BLAUWEKNOP_DEMO = True
demo: $(STAMP) $(MO)
	$(BIN)/python -m blauweknop.demo.first_run
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo "The demo runs at http://127.0.0.1:$(PORT)/ (scheme document: /stelsel/api/v1/stelseldocument)"
	BIN=$(BIN) PORT=$(PORT) scripts/run-demo.sh

# The protocol with the command line only: issue, present, verify, spot a forgery.
walkthrough: $(STAMP)
	scripts/protocol-demo.sh

# System tools the tests use: poppler's pdfsig to validate PDF signatures, Debian's Chromium.
TOOLS := $(VENV)/.tools
$(TOOLS): scripts/install-test-tools.sh
	scripts/install-test-tools.sh
	touch $(TOOLS)

test: $(STAMP) $(MO) $(TOOLS) check
	$(BIN)/python -m pytest
	scripts/with-postgres.sh $(BIN)/python -m pytest -m "database or e2e" -p no:cacheprovider -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/sdjwt_bench.py

# 200 concurrent requests (issue, read, verify) against a real demo server on SQLite, then on PostgreSQL.
bench-concurrency: $(STAMP) $(MO)
	$(BIN)/python bench/concurrency.py
	scripts/with-postgres.sh $(BIN)/python bench/concurrency.py

# The holder's issuance endpoint over HTTP (concurrency 1-64, one and two workers) against its crypto floor.
bench-http: $(STAMP) $(MO)
	$(BIN)/python bench/http_bench.py
	scripts/with-postgres.sh $(BIN)/python bench/http_bench.py

# The overview with 20 stand-in holders that each answer after L ms (50, 200, 1000): its time as a ratio to L.
bench-centraal: $(STAMP) $(MO)
	$(BIN)/python bench/centraal.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
