# retailake: one entry point for people and CI.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# checkov pins boto3 and packaging far below what retailake needs: it lives in a venv of its own.
TOOLS := .venv-tools

.PHONY: install test unit integration lint tf-check bench demo clean

install: $(VENV)/.installed ## create the virtualenv and install retailake with its dev tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The local Glue runner's S3A jars (hadoop-aws, AWS SDK bundle): the only PyPI package that
	# ships them pins an old pyspark, so it is installed without its dependencies.
	$(BIN)/pip install --quiet --no-deps 'sagemaker-pyspark==1.4.5'
	touch $@

test: install lint ## the whole suite: lint, terraform checks, unit, ETL, integration
	$(BIN)/pytest -n 2 --dist loadgroup --durations=15

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet 'checkov>=3.2,<4'
	touch $@

lint: install $(TOOLS)/.installed ## ruff, mypy, terraform fmt, checkov
	$(BIN)/ruff check retailake etl_scripts tests bench
	$(BIN)/mypy
	terraform fmt -check -recursive terraform
	$(TOOLS)/bin/checkov --directory terraform --framework terraform --quiet --compact --skip-download

bench: install ## benchmarks against their references
	$(BIN)/python bench/bench_deploy.py
	$(BIN)/python bench/bench_sample.py
	$(BIN)/python bench/bench_status.py
	$(BIN)/python bench/bench_pipeline.py --preset medium

demo: install ## the whole local path; safe to rerun (each step does only what is missing)
	$(BIN)/retailake deploy --env local --auto-approve
	$(BIN)/retailake seed-sample --env local --preset small
	$(BIN)/retailake run-pipeline --env local
	$(BIN)/retailake warehouse setup --env local
	$(BIN)/retailake query monthly_kpis --env local
	$(BIN)/retailake status --env local

clean:
	-$(BIN)/retailake local down
	rm -rf .retailake
