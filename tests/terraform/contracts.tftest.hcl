# The functions Terraform plans have the handler, timeout, reserved concurrency, memory and environment
# keys contracts.json gives them. The file is read here on its own, so a literal typed into main.tf or
# lambda.tf instead of the contract's value shows.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Variables: tests/terraform/terraform.tfvars (the local environment's values).

run "functions_follow_contracts_json" {
  command = plan

  variables {
    lambda_reserved_concurrency = 7
  }

  assert {
    condition     = toset(keys(aws_lambda_function.this)) == toset([for key, spec in jsondecode(file("contracts.json")).lambda_functions : key if key != "$comment"])
    error_message = "Terraform's functions are not the functions of contracts.json"
  }

  assert {
    condition = alltrue([
      for key, spec in jsondecode(file("contracts.json")).lambda_functions : (
        aws_lambda_function.this[key].handler == spec.handler
        && aws_lambda_function.this[key].timeout == spec.timeout
        && aws_lambda_function.this[key].memory_size == spec.memory_size
        && aws_lambda_function.this[key].reserved_concurrent_executions == coalesce(spec.reserved_concurrency, 7)
      ) if key != "$comment"
    ])
    error_message = "a function's handler, timeout, memory or reserved concurrency differs from contracts.json (null concurrency: lambda_reserved_concurrency)"
  }

  assert {
    condition = alltrue([
      for key, spec in jsondecode(file("contracts.json")).lambda_functions :
      toset(keys(aws_lambda_function.this[key].environment[0].variables)) == toset(spec.environment) if key != "$comment"
    ])
    error_message = "a function's environment keys differ from contracts.json"
  }
}
