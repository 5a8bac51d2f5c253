# Civility: two commands do all the set-up.
#   make run   virtual environment, install, migrate, demo content, serve on http://127.0.0.1:8000
#   make test  test dependencies, then the whole suite
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The first Python >= 3.12 on PATH, then under pyenv's root.
PYTHON ?= $(shell for p in python3.12 python3.13 python3; do \
	  c=$$(command -v $$p 2>/dev/null) && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$c; exit 0; }; \
	done; \
	root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	for c in $$(ls -d $$root/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do \
	  $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$c; exit 0; }; \
	done)

.PHONY: run test install install-test lint lock clean help

help:
	@sed -n 's/^#   //p' Makefile

# uv (pinned in requirements/bootstrap.txt) installs the hash-pinned sets several times faster
# than pip; where it cannot be installed, pip does the job.
INSTALL = sh -c 'if [ -x "$(BIN)/uv" ]; then exec "$(BIN)/uv" pip install --python "$(BIN)/python" "$$@"; \
	else exec "$(BIN)/pip" install --quiet --no-compile "$$@"; fi' install

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Civility needs Python >= 3.12; none found on PATH or under pyenv." >&2; \
	  echo "       Install one (e.g. apt install python3.12 python3.12-venv) or set PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-compile --require-hashes -r requirements/bootstrap.txt \
	  || echo "note: uv could not be installed; installing with pip (slower)"

$(VENV)/.installed: $(BIN)/python requirements/base.txt pyproject.toml
	$(INSTALL) --require-hashes -r requirements/base.txt
	$(INSTALL) --no-deps -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(INSTALL) --require-hashes -r requirements/test.txt
	@touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/civility serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# Re-resolve the hash-pinned requirement files after editing pyproject.toml or requirements/*.in.
# Versions already pinned are kept; `make lock UV_FLAGS=--upgrade` moves everything forward.
UV ?= $(shell command -v uv 2>/dev/null || { [ -x $(BIN)/uv ] && echo $(BIN)/uv; } || echo /tmp/uvenv/bin/uv)
UV_FLAGS ?=
lock:
	$(UV) pip compile pyproject.toml $(UV_FLAGS) --python-version 3.12 --generate-hashes --no-header -o requirements/base.txt
	for f in bootstrap test bench train; do $(UV) pip compile requirements/$$f.in $(UV_FLAGS) --python-version 3.12 --generate-hashes --no-header -o requirements/$$f.txt; done

clean:
	rm -rf $(VENV) build src/*.egg-info
