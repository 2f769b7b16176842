# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo,test]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/lti-ilp demo

test: $(VENV)/.installed-test
	@if [ -x scripts/install-browser ]; then scripts/install-browser; fi
	$(BIN)/pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check lti_ilp tests bench
	$(BIN)/ruff format --check lti_ilp tests bench

format: $(VENV)/.installed-test
	$(BIN)/ruff format lti_ilp tests bench
	$(BIN)/ruff check --fix lti_ilp tests bench

clean:
	rm -rf $(VENV) build *.egg-info

bench: $(VENV)/.installed-test
	bench/run
