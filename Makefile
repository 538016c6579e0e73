# tpa — make targets. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the tpa command (works from the checkout even before `pip install -e .`)
TPA    := $(BIN)/python -m pipeline
RAW    ?= data/raw
WAREHOUSE ?= data/processed/warehouse.duckdb
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

run: $(STAMP) ## set up, generate the sample if data/raw holds no workbook, run the pipeline
	@if [ -z "$$(find $(RAW) -type f \( -iname '*.xlsx' -o -iname '*.xls' -o -iname '*.xlsm' \) 2>/dev/null | head -1)" ]; then \
		$(TPA) sample --out $(RAW); fi
	$(TPA) run --raw-dir $(RAW) --warehouse $(WAREHOUSE)
	$(TPA) report --warehouse $(WAREHOUSE)

test: $(STAMP) ## set up and run the whole test suite
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## the quick subset: every test not marked slow
	$(BIN)/python -m pytest -q -m "not slow"

sample: $(STAMP) ## write the seeded sample workbooks into data/raw
	$(TPA) sample --out $(RAW)

rebuild: $(STAMP) ## rebuild the warehouse from scratch: parse every workbook again
	$(TPA) run --rebuild --raw-dir $(RAW) --warehouse $(WAREHOUSE)

clean-cache: ## drop cached extracts (removed workbooks then lose their quarantine rows)
	rm -rf $(WAREHOUSE).d/extracts

county: $(STAMP) ## show one county's data and source files: make county COUNTY=530128 PERIOD=2019-12
	$(TPA) query "SELECT indicator_code, value, numerator, denominator, unit FROM marts.indicators WHERE geo_code = '$(COUNTY)' AND period = '$(PERIOD)' ORDER BY 1" --warehouse $(WAREHOUSE)
	@echo "files received for $(COUNTY) $(PERIOD) (status rejected or not_read: the county sent a file that was rejected; message: why; identified_from: cover, file_name or folder):"
	@$(TPA) query "SELECT path, received_at, status, identified_from, forms, rows_loaded, rows_quarantined, reason, message FROM raw.files WHERE county_code = '$(COUNTY)' AND period = '$(PERIOD)' AND status <> 'expanded' ORDER BY received_at, file_sha256" --warehouse $(WAREHOUSE) --format csv

bench: $(STAMP) ## benchmark 100k/300k/1M households; writes benchmarks/results.{md,json}
	$(BIN)/python -m benchmarks.bench

PREFECT_PORT ?= 4200
server: $(STAMP) ## start a local Prefect server and its UI on http://127.0.0.1:$(PREFECT_PORT)
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

serve: $(STAMP) ## serve the nightly deployment (02:00 Asia/Shanghai) against that server
	PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api TPA_RAW_DIR=$(RAW) TPA_WAREHOUSE=$(WAREHOUSE) \
		$(BIN)/python -m flows.deploy

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

fmt: $(STAMP) ## ruff format and fix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean: ## remove generated data, the warehouse and its state (keeps .venv)
	rm -rf data/processed/* $(RAW)/*.xlsx $(RAW)/*/ .pytest_cache
	touch data/processed/.gitkeep
