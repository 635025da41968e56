"""The EventBridge rules of events.tf, rendered without Terraform from the same templates.

events.tf renders ``events/rules.json.tftpl`` (and ``events/custom_rule.json.tftpl`` once per
``custom_notification_config`` entry) with ``templatefile`` + ``jsondecode``; this module renders them with
the same variables: the env's tfvars over the defaults of ``variables.tf``, the names of ``contracts.json``,
and the few values that need logic, computed here as events.tf computes them (the step-status rule's
exclusions, the schedules' parameters, which rules are off). The templates keep to what both renderers do
alike: ``${name}``, ``${name.attr}``, ``${jsonencode(name)}`` and the ``$${`` escape.
``tests/functional/test_tf_parity.py`` compares the result with ``terraform plan``::

    for rule in read_rules(Path("env_files/local.tfvars")):
        events.put_rule(**rule.put_rule_kwargs())
        events.put_targets(Rule=rule.name, Targets=[t.put_targets_entry() for t in rule.targets])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import hcl2
from hcl2.utils import SerializationOptions

from pipeline_scripts.config.contracts import Contracts
from pipeline_scripts.config.contracts import load as load_contracts
from pipeline_scripts.paths import PROJECT_ROOT

__all__ = [
    "LOCAL_ACCOUNT_ID",
    "RuleSpec",
    "RulesError",
    "TargetSpec",
    "function_names",
    "read_rules",
    "read_variables",
    "render_rules",
    "render_template",
]

RULES_TEMPLATE = PROJECT_ROOT / "events" / "rules.json.tftpl"
CUSTOM_RULE_TEMPLATE = PROJECT_ROOT / "events" / "custom_rule.json.tftpl"
VARIABLES_TF = PROJECT_ROOT / "variables.tf"
LOCAL_ACCOUNT_ID = "123456789012"  # the local endpoint's (moto's) account
# events.tf, aws_cloudwatch_event_target.this: retry_policy (the parity test compares it).
RETRY_POLICY = {"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}
SCHEDULES = {"training-schedule": "training", "inference-schedule": "inference"}

ArnKind = Literal["lambda", "sagemaker_pipeline"]


class RulesError(ValueError):
    """The tfvars, variables.tf or a template cannot be rendered into rules (says which file and key)."""


@dataclass(frozen=True)
class TargetSpec:
    """One target of a rule, as ``aws_cloudwatch_event_target.this`` declares it."""

    id: str
    arn_kind: ArnKind
    resource_name: str  # function or pipeline name
    pipeline_parameters: Mapping[str, str] | None  # only for SageMaker pipeline targets
    arn: str = ""
    role_arn: str | None = None
    dead_letter_arn: str | None = None
    retry_policy: Mapping[str, int] | None = None

    def put_targets_entry(self) -> dict[str, Any]:
        """This target in the shape of EventBridge's PutTargets ``Targets`` entries."""
        entry: dict[str, Any] = {"Id": self.id, "Arn": self.arn}
        if self.role_arn:
            entry["RoleArn"] = self.role_arn
        if self.pipeline_parameters is not None:
            entry["SageMakerPipelineParameters"] = {
                "PipelineParameterList": [
                    {"Name": name, "Value": value} for name, value in self.pipeline_parameters.items()
                ]
            }
        if self.dead_letter_arn:
            entry["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        if self.retry_policy:
            entry["RetryPolicy"] = {
                "MaximumEventAgeInSeconds": self.retry_policy["maximum_event_age_in_seconds"],
                "MaximumRetryAttempts": self.retry_policy["maximum_retry_attempts"],
            }
        return entry


@dataclass(frozen=True)
class RuleSpec:
    """One ``aws_cloudwatch_event_rule.this`` instance and its targets."""

    name: str
    description: str
    event_pattern: dict[str, Any] | None
    schedule_expression: str | None
    state: str
    targets: tuple[TargetSpec, ...] = field(default=())

    def put_rule_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of EventBridge's PutRule for this rule."""
        kwargs: dict[str, Any] = {"Name": self.name, "State": self.state, "Description": self.description}
        if self.event_pattern is not None:
            kwargs["EventPattern"] = json.dumps(self.event_pattern)
        if self.schedule_expression is not None:
            kwargs["ScheduleExpression"] = self.schedule_expression
        return kwargs


# --------------------------------------------------------------------------------------------------
# Variables and templates
# --------------------------------------------------------------------------------------------------


def _load_hcl(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = hcl2.load(handle, serialization_options=SerializationOptions(strip_string_quotes=True))
    except FileNotFoundError as exc:
        raise RulesError(f"{path}: file not found") from exc
    except Exception as exc:  # python-hcl2 raises lark errors of several types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RulesError(f"{path}: not valid HCL: {first}") from exc
    return {key: value for key, value in data.items() if not key.startswith("__")}


def read_variables(
    env_file: Path, overrides: Mapping[str, Any] | None = None, variables_tf: Path = VARIABLES_TF
) -> dict[str, Any]:
    """Every variable of ``variables_tf``: ``overrides``, else the tfvars value, else the default."""
    declared = {
        name: body for block in _load_hcl(variables_tf).get("variable", []) for name, body in block.items()
    }
    given = {**_load_hcl(env_file), **(overrides or {})}
    values = {}
    for name, body in declared.items():
        if name in given:
            values[name] = given[name]
        elif "default" in body:
            values[name] = body["default"]
        else:
            raise RulesError(f"{env_file}: {name} is not set and {variables_tf.name} gives it no default")
    return values


_TOKEN = re.compile(r"\$\$\{|%%\{|%\{|\$\{([^}]*)\}")
_JSONENCODE = re.compile(r"jsonencode\(\s*([^()]*?)\s*\)")


def _text(value: Any, where: str) -> str:
    """A value in a string template, as Terraform writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        return value
    kind = "null" if value is None else "a list or map: use ${jsonencode(...)}"
    raise RulesError(f"{where} is {kind}")


def render_template(path: Path, variables: Mapping[str, Any]) -> Any:
    """``jsondecode(templatefile(path, variables))`` for the templates' language (see the module doc)."""
    text = path.read_text(encoding="utf-8")

    def resolve(expression: str, where: str) -> Any:
        value: Any = variables
        for part in expression.split("."):
            if not isinstance(value, Mapping) or part not in value:
                raise RulesError(f"{where}: {part!r} is not a variable or key")
            value = value[part]
        return value

    def substitute(match: re.Match[str]) -> str:
        token, expression = match.group(0), (match.group(1) or "").strip()
        where = f"{path}:{text.count(chr(10), 0, match.start()) + 1}: {token}"
        if token in ("$${", "%%{"):
            return token[1:]
        if token == "%{":  # noqa: S105  (a template token's name, not a secret)
            raise RulesError(f"{where}: template directives are not supported (compute the value instead)")
        encoded = _JSONENCODE.fullmatch(expression)
        if encoded:
            return json.dumps(resolve(encoded.group(1), where), ensure_ascii=False)
        return _text(resolve(expression, where), where)

    rendered = _TOKEN.sub(substitute, text)
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise RulesError(f"{path}: the rendered template is not JSON (line {exc.lineno}: {exc.msg})") from exc


# --------------------------------------------------------------------------------------------------
# The rules: events.tf's logic, in the same few steps
# --------------------------------------------------------------------------------------------------


def function_names(variables: Mapping[str, Any]) -> dict[str, str]:
    """Function key → name, as main.tf's ``local.function_settings`` names them."""
    name = f"mlops-{variables['environment']}"
    return {
        "notifier": str(variables["notification_function_name"]),
        "pipeline_trigger": f"{name}-pipeline-trigger",
        "deploy_trigger": f"{name}-deploy-trigger",
    }


def _step_status_detail(variables: Mapping[str, Any], pipeline_arn_list: list[str]) -> dict[str, Any]:
    """events.tf ``local.step_status_detail``: (step, status) pairs with a custom rule are left to it."""
    alternatives = []
    for status in variables["notify_step_statuses"]:
        custom = variables["custom_notification_config"]
        excluded = list(dict.fromkeys(e["step_name"] for e in custom if e["step_status"] == status))
        step_name = {"stepName": [{"anything-but": excluded}]} if excluded else {}
        alternatives.append({"currentStepStatus": [status], **step_name})
    alternative = alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}
    return {"pipelineArn": pipeline_arn_list, **alternative}


def _rule_table(
    variables: Mapping[str, Any], contracts: Contracts, pipeline_arns: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """events.tf ``local.event_rules``: purpose → description, pattern, schedule, target, parameters."""
    arn_list = [pipeline_arns[kind] for kind in sorted(pipeline_arns)]  # Terraform's values(): key order
    template_variables = {
        "detail_types": dict(contracts.detail_types),
        "steps": dict(contracts.steps),
        "no_ground_truth": contracts.no_ground_truth,
        **{key: variables[key] for key in ("bucket_name", "bucket_train_prefix", "bucket_inf_prefix")},
        "model_package_group_name": variables["model_package_group_name"],
        "pipeline_arns": dict(pipeline_arns),
        "pipeline_arn_list": arn_list,
        "training_schedule": variables["training_schedule"],
        "inference_schedule": variables["inference_schedule"],
        "notify_step_statuses_text": ", ".join(variables["notify_step_statuses"]),
        "notify_execution_statuses": variables["notify_execution_statuses"],
        "notify_execution_statuses_text": ", ".join(variables["notify_execution_statuses"]),
        "step_status_detail": _step_status_detail(variables, arn_list),
    }
    rules: dict[str, dict[str, Any]] = render_template(RULES_TEMPLATE, template_variables)
    for purpose, kind in SCHEDULES.items():
        if not isinstance((rules.get(purpose) or {}).get("parameters"), dict):
            raise RulesError(f"{RULES_TEMPLATE}: {purpose} must be a rule with parameters (a schedule)")
        overrides = (variables["schedule_pipeline_parameters"] or {}).get(kind) or {}
        parameters = {**rules[purpose]["parameters"], **overrides}  # in key order, as Terraform iterates
        rules[purpose]["parameters"] = {
            key: _text(parameters[key], f"{purpose}.{key}") for key in sorted(parameters)
        }
    for index, entry in enumerate(variables["custom_notification_config"]):
        custom = {**template_variables, "index": index, "entry": entry}
        rules[f"custom-{index}"] = render_template(CUSTOM_RULE_TEMPLATE, custom)
    off = {
        "training-schedule": variables["training_schedule"] is None,
        "inference-schedule": variables["inference_schedule"] is None,
        "step-status": not variables["notify_step_statuses"],
        "execution-status": not variables["notify_execution_statuses"],
    }
    return {purpose: rule for purpose, rule in rules.items() if not off.get(purpose, False)}


def render_rules(
    variables: Mapping[str, Any],
    *,
    account_id: str = LOCAL_ACCOUNT_ID,
    region: str | None = None,
    partition: str = "aws",
    contracts: Contracts | None = None,
) -> list[RuleSpec]:
    """The rules (sorted by name) and targets Terraform creates for ``variables`` (:func:`read_variables`).

    ``region`` defaults to ``aws_region`` (the provider's region).
    """
    contracts = contracts or load_contracts()
    region = region or str(variables["aws_region"])
    name = f"mlops-{variables['environment']}"
    pipeline_names = {
        "training": variables["pipeline_train"],
        "hpo": variables["pipeline_trainwhpo"],
        "inference": variables["pipeline_inf"],
    }
    pipeline_arns = {
        kind: f"arn:{partition}:sagemaker:{region}:{account_id}:pipeline/{str(pipeline).lower()}"
        for kind, pipeline in pipeline_names.items()
    }
    functions = function_names(variables)
    rules = []
    for purpose, rule in _rule_table(variables, contracts, pipeline_arns).items():
        target_key = rule.get("target")
        if target_key in functions:
            kind: ArnKind = "lambda"
            resource = functions[target_key]
            arn = f"arn:{partition}:lambda:{region}:{account_id}:function:{resource}"
        elif target_key in ("training", "inference"):
            kind, arn = "sagemaker_pipeline", pipeline_arns[target_key]
            resource = arn.rsplit("/", 1)[1]
        else:
            raise RulesError(
                f"{RULES_TEMPLATE}: {purpose}.target is {target_key!r}: use one of "
                f"{sorted(functions)} (a function) or training, inference (a pipeline)"
            )
        parameters = rule.get("parameters")
        target = TargetSpec(
            id=purpose,
            arn_kind=kind,
            resource_name=resource,
            pipeline_parameters=parameters,
            arn=arn,
            role_arn=None if parameters is None else f"arn:{partition}:iam::{account_id}:role/{name}-events",
            dead_letter_arn=f"arn:{partition}:sqs:{region}:{account_id}:{name}-dead-letter",
            retry_policy=RETRY_POLICY,
        )
        rules.append(
            RuleSpec(
                name=f"{name}-{purpose}",
                description=str(rule.get("description", "")),
                event_pattern=rule.get("pattern"),
                schedule_expression=rule.get("schedule"),
                state="ENABLED",
                targets=(target,),
            )
        )
    return sorted(rules, key=lambda rule: rule.name)


def read_rules(
    env_file: Path,
    *,
    account_id: str = LOCAL_ACCOUNT_ID,
    region: str | None = None,
    partition: str = "aws",
) -> list[RuleSpec]:
    """The rules Terraform creates with ``-var-file=env_file`` (:func:`render_rules`)."""
    return render_rules(read_variables(env_file), account_id=account_id, region=region, partition=partition)
