# GitLab CI: offline validation and local rehearsal of .gitlab-ci.yml, plus the small steps its jobs call.
# Included by the Makefile (which defines BIN, PYTHON and ENV). docs/gitlab.md explains the pipeline.

# Node ≥ 22 for gitlab-ci-local comes from the npm registry as the `node` package, so neither needs more
# than npm; both land in .tools/node (ignored by git) and work offline afterwards.
NODE_VERSION := 22.23.3
GITLAB_CI_LOCAL_VERSION := 4.75.1
TOOLS := .tools
NODE_PREFIX := $(TOOLS)/node
NODE_BIN := $(CURDIR)/$(NODE_PREFIX)/node_modules/.bin
GITLAB_CI_LOCAL := PATH="$(NODE_BIN):$$PATH" gitlab-ci-local --state-dir $(TOOLS)/gitlab-ci-local
CI_TOOLS_STAMP := $(NODE_PREFIX)/.installed-node$(NODE_VERSION)-gcl$(GITLAB_CI_LOCAL_VERSION)

# Terraform for the CI image (python:3.11 has none): HashiCorp's release zip, checked against the SHA-256
# published in the release's SHA256SUMS (linux_amd64).
TERRAFORM_VERSION ?= 1.11.4
TERRAFORM_SHA256 ?= 1ce994251c00281d6845f0f268637ba50c0005657eb3cf096b92f753b42ef4dc
TERRAFORM_INSTALL_DIR ?= /usr/local/bin
TERRAFORM_URL ?= https://releases.hashicorp.com/terraform/$(TERRAFORM_VERSION)/terraform_$(TERRAFORM_VERSION)_linux_amd64.zip

# The variables GitLab sets for each kind of pipeline, as gitlab-ci-local needs them to pick the same jobs.
CI_MR_VARS := --variable CI_PIPELINE_SOURCE=merge_request_event --variable CI_COMMIT_BRANCH=
CI_MAIN_VARS := --variable CI_PIPELINE_SOURCE=push --variable CI_COMMIT_BRANCH=main --variable CI_DEFAULT_BRANCH=main
CI_TRIGGER_VARS := --variable CI_PIPELINE_SOURCE=trigger --variable MLOPS_JOB=deploy-on-approval \
	--variable DEPLOY_ENVIRONMENT=dev --variable MODEL_PACKAGE_ARN=arn:aws:sagemaker:us-east-1:111111111111:model-package/mlops-dev-abalone/1
export GCL_IGNORE_PREDEFINED_VARS := CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH

.PHONY: ci-tools ci-validate ci-rehearse ci-terraform ci-plan-report ci-deploy-report

ci-tools: $(CI_TOOLS_STAMP) ## Install Node 22 and gitlab-ci-local (pinned) into .tools/node with npm

$(CI_TOOLS_STAMP):
	@command -v npm > /dev/null || { echo "ci-tools needs npm (any Node.js with npm; Debian: apt-get install npm)" >&2; exit 2; }
	@mkdir -p $(NODE_PREFIX)
	@printf '*\n' > $(TOOLS)/.gitignore
	npm install --prefix $(NODE_PREFIX) --no-audit --no-fund --loglevel=error --save-exact \
		node@$(NODE_VERSION) gitlab-ci-local@$(GITLAB_CI_LOCAL_VERSION)
	@PATH="$(NODE_BIN):$$PATH" node --version | grep -qx 'v$(NODE_VERSION)'
	@rm -f $(NODE_PREFIX)/.installed-*
	@touch $@

ci-validate: install ci-tools ## Validate .gitlab-ci.yml offline: JSON schema, then gitlab-ci-local (stages, needs, extends, rules)
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml
	$(GITLAB_CI_LOCAL) --preview > /dev/null
	@echo "--- merge request pipeline"
	$(GITLAB_CI_LOCAL) --list $(CI_MR_VARS)
	$(GITLAB_CI_LOCAL) --validate-dependency-chain $(CI_MR_VARS)
	@echo "--- main pipeline"
	$(GITLAB_CI_LOCAL) --list $(CI_MAIN_VARS)
	@# No --validate-dependency-chain here: gitlab-ci-local 4.75 rejects `needs` on a manual job (promotion
	@# is built on that, and GitLab accepts it); tests/ci checks main's needs instead.
	@echo "--- deploy-on-approval (trigger) pipeline"
	$(GITLAB_CI_LOCAL) --list $(CI_TRIGGER_VARS)
	$(GITLAB_CI_LOCAL) --validate-dependency-chain $(CI_TRIGGER_VARS)

# Runs real jobs of .gitlab-ci.yml in shell mode (no Docker, images ignored) against the local AWS endpoint:
# the merge request's test and definitions jobs, main's build job (pipelines:dev) and the deploy-on-approval
# job, with ENV=local. Uses AWS_ENDPOINT_URL when set, else starts `mlops local up` and stops it after.
# MODEL_PACKAGE_ARN: an Approved version to deploy (default: one registered in the local endpoint).
ci-rehearse: install ci-tools ## Run the CI jobs locally with gitlab-ci-local against the local AWS endpoint
	@command -v rsync > /dev/null || { echo "gitlab-ci-local needs rsync to run jobs: apt-get install rsync" >&2; exit 2; }
	PATH="$(NODE_BIN):$$PATH" $(BIN)/python -m tests.ci.rehearse $${MODEL_PACKAGE_ARN:+--model-package-arn "$$MODEL_PACKAGE_ARN"}

# --- Steps the .gitlab-ci.yml jobs call -------------------------------------------------------------------

ci-terraform: ## (CI job step) Install the pinned Terraform into TERRAFORM_INSTALL_DIR unless it is on PATH
	@if terraform version 2> /dev/null | head -n 1 | grep -qx 'Terraform v$(TERRAFORM_VERSION)'; then \
		echo "terraform $(TERRAFORM_VERSION) is installed"; \
	else \
		set -e; tmp=$$(mktemp -d); \
		curl -fsSL -o $$tmp/terraform.zip $(TERRAFORM_URL); \
		echo "$(TERRAFORM_SHA256)  $$tmp/terraform.zip" | sha256sum --check --quiet -; \
		$(PYTHON) -m zipfile -e $$tmp/terraform.zip $$tmp/unpacked; \
		install -m 0755 $$tmp/unpacked/terraform $(TERRAFORM_INSTALL_DIR)/terraform; \
		rm -rf $$tmp; \
		terraform version; \
	fi
	@if [ -n "$$TF_PLUGIN_CACHE_DIR" ]; then mkdir -p "$$TF_PLUGIN_CACHE_DIR"; fi

ci-plan-report: install ## (CI job step) GitLab's Terraform report for ENV's saved plan (merge request widget)
	$(BIN)/python -m pipeline_scripts.tooling.tf_plan_report build/terraform/$(ENV).tfplan \
		--out build/terraform/$(ENV).plan-summary.json

ci-deploy-report: install ## (CI job step) Record a deploy-on-approval: build/deploy/deploy-approved.env (dotenv report)
	$(BIN)/python -m pipeline_scripts.tooling.deploy_report --out build/deploy/deploy-approved.env
