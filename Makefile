# Every target CI runs is here; `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV ?= local
STAMP := $(VENV)/.installed

# CI hands ENV and MODEL_PACKAGE_ARN to make through the environment (or `make T ENV=…`). Their raw text is
# taken as is ($(value): a `$(shell …)` inside is never expanded by make), exported to the recipes as a
# plain variable, and recipes read it as "$$VAR" (quoted, so the shell never runs what it holds). ENV is
# also spliced into file names below, so it must be one of the environments.
override ENV := $(value ENV)
override MODEL_PACKAGE_ARN := $(value MODEL_PACKAGE_ARN)
override DATASET := $(value DATASET)
export ENV MODEL_PACKAGE_ARN DATASET
ifneq ($(words $(value ENV))$(filter-out local dev staging prod,$(value ENV)),1)
$(error ENV must be one of local dev staging prod (got "$(value ENV)"))
endif

.PHONY: help install test test-apply check lint format typecheck demo definitions bench lock clean \
	pipelines-upsert pipelines-delete deploy-approved local-up

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# An existing .venv with the SageMaker SDK v2 is cleared of it first: v2 is one package that owns
# sagemaker/serve, sagemaker/core, ...; upgrading in place lets pip uninstall v2 after installing v3's
# packages into the same folders, which deletes v3 files (ModuleNotFoundError: sagemaker.serve.spec).
$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/pip show sagemaker 2>/dev/null | grep -q '^Version: 2\.'; then \
		echo "removing the SageMaker SDK v2 from $(VENV) before installing v3"; \
		$(BIN)/pip uninstall --quiet --yes sagemaker sagemaker-core; fi
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv (if missing) and install the pinned dependencies

test: install ci-tools ## Run the test suite (what CI runs; installs gitlab-ci-local with npm once)
	$(BIN)/pytest -q -m "not terraform_apply"

test-apply: install ## The tests that terraform-apply the repo against the local endpoint (~80 s; CI runs them)
	$(BIN)/pytest -q -m terraform_apply

check: lint typecheck test test-apply ## Lint, type-check and test (all of it)

lint: install ## ruff lint + format check, terraform fmt check, the allowed imports (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory tf-fmt-check
	PYTHONPATH=code:. $(BIN)/lint-imports --no-cache

format: install ## Apply ruff formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install ## mypy (strict) on the source packages
	$(BIN)/mypy

demo: install ## The main job: the whole lifecycle locally (no AWS account, no Docker); DATASET=dir for another data set
	$(BIN)/mlops demo $${DATASET:+--dataset "$$DATASET"}

local-up: install ## Run the local AWS endpoint in the foreground (prints the AWS_ENDPOINT_URL to export)
	$(BIN)/mlops local up --provision

definitions: install ## Write the pipeline definitions for ENV (default local) to build/definitions
	$(BIN)/mlops --env $(ENV) pipelines definition

pipelines-upsert: install ## Create or update the three SageMaker pipelines of ENV (keeps execution history)
	@# Exit 3 = no approved model yet: training and HPO are upserted, inference waits for the first approval.
	@$(BIN)/mlops --env $(ENV) pipelines upsert || { rc=$$?; if [ $$rc -eq 3 ]; then \
		echo "warning: no approved model yet, so the inference pipeline was not upserted"; else exit $$rc; fi; }

pipelines-delete: install ## Delete the three SageMaker pipelines of ENV
	$(BIN)/mlops --env $(ENV) pipelines delete

deploy-approved: install ## Point ENV's inference pipeline at MODEL_PACKAGE_ARN (the deploy-on-approval job)
	@test -n "$$MODEL_PACKAGE_ARN" || { echo "MODEL_PACKAGE_ARN is not set: pass the approved model package ARN" >&2; exit 2; }
	$(BIN)/mlops --env "$$ENV" pipelines upsert --only inference --model-package-arn "$$MODEL_PACKAGE_ARN"

bench: install ## Benchmarks (not part of the test suite): they print their figures
	$(BIN)/python benchmarks/bench_definitions.py
	@if [ -f benchmarks/bench_data_quality.py ]; then $(BIN)/python benchmarks/bench_data_quality.py; fi
	$(BIN)/python benchmarks/bench_local.py

lock: ## Re-pin transitive dependencies into constraints.txt from the current .venv
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean: ## Remove build outputs (not .venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache

# Terraform, Lambda packaging and scanning targets; GitLab CI validation targets.
-include terraform.mk
-include ci.mk
