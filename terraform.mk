# Terraform, the Lambda package, the security scan and the README's Terraform tables.
# Included by the Makefile (which defines BIN, PYTHON and ENV).
#
# State: GitLab-managed (http backend), one state per environment. `tf-init` configures it from the
# TF_HTTP_* environment variables .gitlab-ci.yml sets; without TF_HTTP_ADDRESS it initialises with no
# backend, which is all fmt, validate and test need (offline). ENV=local plans and applies against the
# local endpoint instead (local_aws/provisioning/terraform.py, state in build/terraform/local).
#
# Providers: when a filesystem mirror of hashicorp/aws exists ($TF_PROVIDER_MIRROR, else /opt/tf-plugins),
# terraform.rc is rendered to build/terraform/terraform.rc and used as TF_CLI_CONFIG_FILE, so nothing is
# downloaded; otherwise Terraform installs the provider from the registry as usual.

TERRAFORM ?= terraform
TF_BUILD := build/terraform
LAMBDA_ZIP := build/lambda/lambda_function.zip
TF_VAR_FILE := env_files/$(ENV).tfvars
TF_PLAN := $(TF_BUILD)/$(ENV).tfplan
TF_ENVIRONMENTS := local dev staging prod
# One working directory per environment (its backend settings and providers); one for offline checks.
TF_ENV_DATA := $(CURDIR)/.terraform/$(ENV)
TF_OFFLINE_DATA := $(CURDIR)/.terraform/offline
# Exported: every terraform command make runs (also `terraform show` in ci-plan-report) uses ENV's.
export TF_DATA_DIR := $(TF_ENV_DATA)
TF := $(TERRAFORM)
TF_OFFLINE := TF_DATA_DIR=$(TF_OFFLINE_DATA) $(TERRAFORM)

TF_PROVIDER_MIRROR ?= /opt/tf-plugins
ifneq ($(wildcard $(TF_PROVIDER_MIRROR)/registry.terraform.io/hashicorp/aws),)
TF_MIRROR_RC := $(CURDIR)/$(TF_BUILD)/terraform.rc
export TF_CLI_CONFIG_FILE := $(TF_MIRROR_RC)
endif

CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
CHECKOV_SKIP_PATHS := .venv .tools .terraform build tests node_modules

.PHONY: lambda-package tf-cli-config tf-init tf-init-offline tf-fmt tf-fmt-check tf-validate tf-test \
	tf-plan tf-apply tf-destroy tf-docs scan

lambda-package: install ## Build the Lambda zip (deterministic: same source, same bytes) at build/lambda/lambda_function.zip
	$(BIN)/python -m pipeline_scripts.tooling.lambda_package --out $(LAMBDA_ZIP)

tf-cli-config:
	@mkdir -p $(TF_BUILD)
ifdef TF_MIRROR_RC
	@sed 's|@TF_PROVIDER_MIRROR@|$(abspath $(TF_PROVIDER_MIRROR))|' terraform.rc > $(TF_MIRROR_RC)
endif

tf-init: tf-cli-config ## terraform init for ENV: GitLab http backend when TF_HTTP_ADDRESS is set, else none (offline)
	@if [ -n "$$TF_HTTP_ADDRESS" ]; then \
		echo "terraform init ($(ENV)): http backend at $$TF_HTTP_ADDRESS"; \
		$(TF) init -input=false -reconfigure -lockfile=readonly; \
	else \
		echo "terraform init ($(ENV)): TF_HTTP_ADDRESS is not set, so no backend (enough for validate and test)"; \
		$(TF) init -input=false -backend=false -lockfile=readonly; \
	fi

tf-init-offline: tf-cli-config
	@$(TF_OFFLINE) init -input=false -backend=false -lockfile=readonly -no-color > $(TF_BUILD)/init-offline.log 2>&1 \
		|| { cat $(TF_BUILD)/init-offline.log; exit 1; }

# The configuration, env_files and tests/terraform; not build/ (generated copies) nor tool folders.
TF_FMT_DIRS := . env_files
TF_FMT_RECURSIVE := tests/terraform

tf-fmt: ## Format the .tf, .tfvars and .tftest.hcl files
	$(TERRAFORM) fmt $(TF_FMT_DIRS)
	$(TERRAFORM) fmt -recursive $(TF_FMT_RECURSIVE)

tf-fmt-check: ## Fail if a Terraform file is not formatted (shows the diff)
	$(TERRAFORM) fmt -check -diff $(TF_FMT_DIRS)
	$(TERRAFORM) fmt -check -diff -recursive $(TF_FMT_RECURSIVE)

tf-validate: tf-init-offline ## terraform validate (offline, no backend)
	$(TF_OFFLINE) validate

tf-test: tf-init-offline ## terraform test with a mocked provider (offline): tests/terraform, then every env_files/*.tfvars
	$(TF_OFFLINE) test -test-directory=tests/terraform
	@for env in $(TF_ENVIRONMENTS); do \
		echo "--- env_files/$$env.tfvars"; \
		$(TF_OFFLINE) test -test-directory=tests/terraform/env_files -var-file=env_files/$$env.tfvars || exit 1; \
	done

tf-plan: lambda-package tf-cli-config ## Save ENV's plan: build/terraform/<env>.tfplan, .tfplan.json (show -json), .tfplan.txt
	@mkdir -p $(TF_BUILD)
ifeq ($(ENV),local)
	$(BIN)/python -m local_aws.provisioning.terraform plan --plan-file $(TF_PLAN) --lambda-zip $(LAMBDA_ZIP)
else
	@test -n "$$TF_HTTP_ADDRESS" || { echo "TF_HTTP_ADDRESS is not set: plans need the GitLab state of $(ENV) (see .gitlab-ci.yml, .terraform)" >&2; exit 2; }
	$(TF) plan -input=false -var-file=$(TF_VAR_FILE) -out=$(TF_PLAN)
	$(TF) show -json $(TF_PLAN) > $(TF_PLAN).json
	$(TF) show -no-color $(TF_PLAN) > $(TF_PLAN).txt
	@echo "saved $(TF_PLAN) (+ .json, .txt)"
endif

tf-apply: tf-cli-config $(if $(filter local,$(ENV)),install) ## Apply exactly ENV's saved plan (ENV=local: plan and apply against the local endpoint)
ifeq ($(ENV),local)
	$(BIN)/python -m local_aws.provisioning.terraform apply $(if $(wildcard $(LAMBDA_ZIP)),--lambda-zip $(LAMBDA_ZIP))
else
	@test -f $(TF_PLAN) || { echo "$(TF_PLAN) not found: run make tf-plan ENV=$(ENV) first (in CI: the plan job's artifact)" >&2; exit 2; }
	$(TF) apply -input=false $(TF_PLAN)
endif

tf-destroy: lambda-package tf-cli-config ## Destroy ENV's resources (not ENV=local: reset the local endpoint instead)
ifeq ($(ENV),local)
	@echo "ENV=local: stop or reset the local endpoint (mlops local up; POST /_local/reset) instead of destroying" >&2; exit 2
else
	$(TF) destroy -input=false -auto-approve -var-file=$(TF_VAR_FILE)
endif

tf-docs: install ## Regenerate the inputs/outputs tables of README.md from variables.tf and outputs.tf
	$(BIN)/python -m pipeline_scripts.tooling.tf_docs README.md

$(CHECKOV_STAMP):
	@mkdir -p .tools
	@test -f .tools/.gitignore || printf '*\n' > .tools/.gitignore
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	@touch $@

scan: $(CHECKOV_STAMP) ## checkov on the Terraform (own venv in .tools/checkov: it clashes with python-hcl2), offline
	$(CHECKOV_VENV)/bin/checkov -d . --framework terraform --skip-download --quiet --compact \
		$(addprefix --skip-path ,$(CHECKOV_SKIP_PATHS))
