# tpa — make targets. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the tpa command (works from the checkout even before `pip install -e .`)
TPA    := $(BIN)/python -m pipeline
RAW    ?= data/raw
WAREHOUSE ?= data/processed/warehouse.duckdb
COUNTY ?=
PERIOD ?=
PREFECT_PORT ?= 4200
# What a user passes (RAW, WAREHOUSE, COUNTY, PERIOD, PREFECT_PORT) reaches the commands
# as data, never as recipe text (issue 11): make would otherwise expand a `$(shell …)`
# in it when exporting it, and the shell would run a `"` or `;` in a recipe. So these are
# not exported under their own names; their unexpanded text ($(value …)) goes into
# TPA_* environment variables that tpa reads, and recipes use only "$$TPA_…" in quotes.
unexport RAW WAREHOUSE COUNTY PERIOD PREFECT_PORT
export TPA_RAW_DIR = $(value RAW)
export TPA_WAREHOUSE = $(value WAREHOUSE)
export TPA_COUNTY = $(value COUNTY)
export TPA_PERIOD = $(value PERIOD)
export TPA_PREFECT_PORT = $(value PREFECT_PORT)
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: help run test test-fast sample clean rebuild clean-cache county lint fmt server serve bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## set up, write the sample into data/raw on a first run if it is empty, run the pipeline (report and export included)
	$(TPA) sample --first-run
	$(TPA) run

# DuckDB 1.x, for the test that analysts' 1.x clients open the published file (issue 13)
DUCKDB1 := .venv-duckdb1/.installed
$(DUCKDB1):
	-$(PYTHON) -m venv .venv-duckdb1 && .venv-duckdb1/bin/pip install -q duckdb==1.5.6 && touch $(DUCKDB1)

# worker processes for make test and test-fast (pytest-xdist): one a core by default; TEST_WORKERS=0 runs in one process
TEST_WORKERS ?= auto
test: $(STAMP) $(DUCKDB1) ## set up and run the whole test suite (slow tests too; order shuffled; TEST_WORKERS=…)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP) ## the quick subset, under a minute: every test not marked slow (order shuffled)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile

sample: $(STAMP) ## write the seeded sample workbooks into data/raw (RAW=…)
	$(TPA) sample --out "$$TPA_RAW_DIR"

rebuild: $(STAMP) ## rebuild the warehouse from scratch: parse every workbook again
	$(TPA) run --rebuild

clean-cache: ## drop cached extracts (removed workbooks then lose their quarantine rows)
	rm -rf "$$TPA_WAREHOUSE.d/extracts"

county: $(STAMP) ## show one county's data and source files: make county COUNTY=530128 PERIOD=2019-12
	$(TPA) county

bench: $(STAMP) ## benchmark 100k/300k/1M households; writes devkit/benchmarks/results.{md,json}
	$(BIN)/python -m devkit.benchmarks.bench

server: $(STAMP) ## start a local Prefect server and its UI on http://127.0.0.1:4200 (PREFECT_PORT=…)
	$(BIN)/prefect server start --host 127.0.0.1 --port "$$TPA_PREFECT_PORT"

serve: $(STAMP) ## serve the nightly deployment (02:00 Asia/Shanghai) against that server
	PREFECT_API_URL="http://127.0.0.1:$$TPA_PREFECT_PORT/api" $(BIN)/python -m flows.deploy

# duplicate-code (R0801) over the package: a block of 8+ similar lines is a helper to extract (issue 14)
lint: $(STAMP) ## ruff lint and format check, and pylint's duplicate-code check on the package
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/pylint --disable=all --enable=duplicate-code --min-similarity-lines=8 --score=n pipeline schemas flows devkit

fmt: $(STAMP) ## ruff format and fix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean: $(STAMP) ## remove what tpa generated (warehouse, state, reports, exports, its sample workbooks); never other files under RAW
	$(TPA) clean
	rm -rf .pytest_cache
