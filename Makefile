# bolo: the two commands are `make demo` and `make test`; everything else they need, they install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two installs: what bolo needs to run (make demo), and that plus the tests', linters' and
# benchmarks' tools (make install, make test, make lint). Both take their versions from
# requirements.lock (a constraints file), so a fresh clone installs what CI tested.
RUN_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp
LOCK := requirements.lock
# `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest release pyproject.toml allows;
# without it, pins already in the lock are kept and only new or changed dependencies resolved.
LOCK_FLAGS ?=

.PHONY: install runtime demo test lint lock browser bench bench-tools clean i18n

install: $(STAMP)

runtime: $(RUN_STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bolo needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

# Re-pin after changing pyproject.toml's dependencies, and commit requirements.lock with it:
# every dependency of bolo and its dev and bench extras, at one version each.
lock: install
	$(VENV)/bin/pip-compile --quiet --strip-extras --extra dev --extra bench \
	  --no-emit-index-url --no-emit-find-links --unsafe-package bolo $(LOCK_FLAGS) \
	  --output-file $(LOCK) pyproject.toml
	touch $(STAMP) $(RUN_STAMP)

demo: runtime
	$(VENV)/bin/bolo demo

# Browser tests drive Debian's Chromium (with a Korean font for the Korean pages and the poster,
# and poppler-utils to read the poster's PDF back); install them when they are missing.
browser:
	@{ command -v chromium && command -v pdftotext && fc-list :lang=ko | grep -q .; } \
	  >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium, fonts-nanum and poppler-utils for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO apt-get install -y -qq chromium fonts-nanum poppler-utils >/dev/null; }

# The tip benchmark's load generator: Debian's wrk (C, so it leaves the server the CPU that a
# Python client would take); installed when it is missing.
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for bench/tips_bench.py"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

test: install browser
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Translations: extract the messages of the code and templates, merge them into every catalog
# (bolo/locale/LANG/LC_MESSAGES/bolo.po) and compile the .mo files bolo reads (committed, so an
# installation needs no build step). A new language: pybabel init -l LANG, then make i18n.
i18n: install
	$(VENV)/bin/pybabel extract -F babel.cfg --sort-by-file --no-wrap --omit-header \
	  -k N_ -o bolo/locale/bolo.pot .
	$(VENV)/bin/pybabel update -i bolo/locale/bolo.pot -d bolo/locale -D bolo --no-wrap \
	  --ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d bolo/locale -D bolo --statistics

clean:
	rm -rf .bolo demo-out .pytest_cache .mypy_cache .ruff_cache
