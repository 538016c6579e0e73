# tpa — make targets. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RAW    ?= data/raw
WAREHOUSE ?= data/processed/warehouse.duckdb
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: help run test sample clean rebuild clean-cache county lint fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) ## set up, generate the sample if data/raw holds no workbook, run the pipeline
	@if [ -z "$$(find $(RAW) -type f \( -iname '*.xlsx' -o -iname '*.xls' -o -iname '*.xlsm' \) 2>/dev/null | head -1)" ]; then \
		$(BIN)/tpa sample --out $(RAW); fi
	$(BIN)/tpa run --raw-dir $(RAW) --warehouse $(WAREHOUSE)

test: $(STAMP) ## set up and run the test suite
	$(BIN)/python -m pytest -q

sample: $(STAMP) ## write the seeded sample workbooks into data/raw
	$(BIN)/tpa sample --out $(RAW)

rebuild: $(STAMP) ## rebuild the warehouse from scratch (drops cached extracts first)
	rm -rf $(WAREHOUSE).d/extracts
	$(BIN)/tpa run --raw-dir $(RAW) --warehouse $(WAREHOUSE)

clean-cache: ## drop cached extracts (the next run parses every workbook again)
	rm -rf $(WAREHOUSE).d/extracts

county: $(STAMP) ## show one county's data and source files: make county COUNTY=530128 PERIOD=2019-12
	$(BIN)/tpa query "SELECT indicator_code, value, numerator, denominator, unit FROM marts.indicators WHERE geo_code = '$(COUNTY)' AND period = '$(PERIOD)' ORDER BY 1" --warehouse $(WAREHOUSE)
	$(BIN)/tpa query "SELECT path, status, forms, rows_loaded, rows_quarantined, reason FROM raw.files WHERE county_code = '$(COUNTY)' AND period = '$(PERIOD)'" --warehouse $(WAREHOUSE)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

fmt: $(STAMP) ## ruff format and fix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean: ## remove generated data, the warehouse and its state (keeps .venv)
	rm -rf data/processed/* $(RAW)/*.xlsx $(RAW)/*/ .pytest_cache
	touch data/processed/.gitkeep
