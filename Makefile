# Gradient. Two commands on a fresh machine:
#   make demo   install, migrate, load frameworks and demo data, run the web app and a worker
#   make test   install, then run every check and test
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/gradient
PORT ?= 8000
# Links in invitation e-mails and link lists point here: `make demo PORT=8301` gives links to
# port 8301. Set SITE_URL yourself to override (a proxy, another host name).
SITE_URL ?= http://127.0.0.1:$(PORT)
# pytest-xdist processes; JOBS=0 runs the suite in one process.
JOBS ?= auto

.PHONY: install demo run serve worker test check pytest test-postgres screenshots bench messages clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate
	@bash scripts/system-deps.sh
	$(PYTHON) scripts/i18n.py compile
	$(PYTHON) manage.py collectstatic --noinput -v 0

demo: install
	$(PYTHON) manage.py migrate --noinput
	$(PYTHON) manage.py load_frameworks
	$(PYTHON) manage.py seed_demo --clusters 6 --firms 600 --seed 1
	$(MAKE) --no-print-directory run

# The web app in the foreground, with a Celery worker beside it on the embedded broker; both
# get SITE_URL, since the worker sends the e-mails of large rounds.
run: export SITE_URL := $(SITE_URL)
run:
	@$(BIN)/celery -A gradient worker -Q reports,default --concurrency 1 --loglevel INFO \
	  -B -s var/celerybeat-schedule & \
	  worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  echo "Gradient: http://127.0.0.1:$(PORT)/  links in e-mails: $$SITE_URL  (Ctrl-C stops both)"; \
	  $(PYTHON) manage.py runserver 127.0.0.1:$(PORT)

# Production-like, locally: DEBUG off, PostgreSQL (PG_URL), Redis, hashed and compressed static
# files served by WhiteNoise, JSON logs, gunicorn with gunicorn.conf.py on 127.0.0.1:$(PORT).
# Plain HTTP (no TLS proxy here), so the HTTPS redirect is off; a throwaway key unless
# SECRET_KEY is set. The load tests of docs/benchmarks.md run against this.
SERVE_BROKER ?= redis://127.0.0.1:6379/0
SERVE_ENV = DEBUG=false STATIC_MANIFEST=true LOG_FORMAT=json SECURE_SSL_REDIRECT=false \
  SECRET_KEY=$${SECRET_KEY:-$$(cat var/serve-secret-key 2>/dev/null)} \
  DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(SERVE_BROKER) STATIC_ROOT=$(CURDIR)/var/static-prod \
  ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=$(SITE_URL) GUNICORN_BIND=127.0.0.1:$(PORT)
serve: install
	@mkdir -p var && test -s var/serve-secret-key || \
	  $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(64))" > var/serve-secret-key
	$(SERVE_ENV) $(PYTHON) manage.py migrate --noinput
	$(SERVE_ENV) $(PYTHON) manage.py collectstatic --noinput -v 0
	$(SERVE_ENV) $(BIN)/gunicorn -c gunicorn.conf.py

worker: install
	$(BIN)/celery -A gradient worker -Q reports,default --loglevel INFO

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(PYTHON) manage.py makemigrations --check --dry-run
	$(PYTHON) manage.py check

pytest: install
	$(BIN)/pytest -n $(JOBS) --dist loadfile

test: check pytest

# The database tests again, on PostgreSQL (browser tests ran in the first pass).
test-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n $(JOBS) --dist loadfile -m "not browser"

# Regenerate the tracked screenshots in docs/screenshots/ from the browser journeys.
screenshots: install
	SCREENSHOTS=docs $(BIN)/pytest -m browser -p no:cacheprovider

bench: install
	$(PYTHON) bench/score.py

messages: install
	for part in core clusters assessments programmes reports; do $(PYTHON) scripts/i18n.py extract $$part; done

clean:
	rm -rf var/broker var/broker-processed var/static var/static-prod .pytest_cache
