# One task file for set-up, checks, tests and the site. `make site` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup check site serve test lint format lock clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,zensical]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the pinned dependencies

check: setup  ## run every data and essay check
	$(BIN)/coguide check

site: setup  ## check, generate and build site/ (the old site/ is kept if anything fails)
	$(BIN)/coguide build

serve: setup  ## serve the site at http://127.0.0.1:8000 with live reload
	$(BIN)/coguide serve

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Lighthouse tests will be skipped (with CI=true they fail)"; fi

test: setup node_modules/.package-lock.json  ## run the test suite (browser tests need Debian's chromium)
	$(BIN)/pytest

lint: setup  ## ruff, as CI runs it
	$(BIN)/ruff check scripts tests
	$(BIN)/ruff format --check scripts tests

format: setup
	$(BIN)/ruff format scripts tests
	$(BIN)/ruff check --fix scripts tests

lock: setup  ## re-pin every dependency after changing pyproject.toml
	$(BIN)/python -m pip freeze --exclude-editable --exclude coguide > constraints.txt

clean:
	rm -rf $(VENV) site generated node_modules .pytest_cache .ruff_cache
