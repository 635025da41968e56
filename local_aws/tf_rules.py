"""The EventBridge rules of the repository's Terraform, read without Terraform.

When ``terraform`` is not installed the local endpoint creates these rules itself (with Terraform it
applies the real configuration: :mod:`local_aws.terraform`)::

    from local_aws.tf_rules import read_rules
    for rule in read_rules(Path("env_files/local.tfvars")):
        events.put_rule(**rule.put_rule_kwargs())
        events.put_targets(Rule=rule.name, Targets=[t.put_targets_entry() for t in rule.targets])

How: the ``*.tf`` files of one directory (no modules) are parsed by python-hcl2 into a syntax tree that
is evaluated here with Terraform's semantics, for the subset the configuration uses: literals, string
templates (no ``%{}`` directives), references to ``var``/``local``/``data``/``each``/``count``/``path``
and to resource attributes, index and attribute access, operators, conditionals, ``for`` expressions,
``dynamic`` blocks and the functions in ``_FUNCTIONS``. Variables take their tfvars value, else their
default, converted to their declared type (optional object attributes get their defaults). The
account, region and partition lookups are arguments. A resource attribute is its configured argument,
or, for an ARN, the ARN AWS gives that resource. Anything else (a value only known after apply, an
unsupported function or construct) raises :class:`TfRulesError` naming the file and what to change:
the reader never guesses. ``tests/functional/test_tf_parity.py`` checks it against a real apply.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import hcl2
from hcl2.rules import base, containers, expressions, for_expressions, functions, indexing, strings
from hcl2.rules import literal_rules as literals
from hcl2.utils import process_escape_sequences

__all__ = ["LOCAL_ACCOUNT_ID", "RuleSpec", "TargetSpec", "TfRulesError", "read_rules"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_ACCOUNT_ID = "123456789012"  # the local endpoint's (moto's) account

ArnKind = Literal["lambda", "sagemaker_pipeline", "sns", "sqs"]


class TfRulesError(ValueError):
    """The Terraform files or the tfvars cannot be read as rules (says where and why)."""


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InputTransformer:
    input_paths: Mapping[str, str]
    input_template: str


@dataclass(frozen=True)
class TargetSpec:
    """One target of a rule, as ``aws_cloudwatch_event_target`` declares it."""

    id: str
    arn_kind: ArnKind
    resource_name: str  # function, pipeline, topic or queue name
    input_transformer: InputTransformer | None
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
        if self.input_transformer is not None:
            entry["InputTransformer"] = {
                "InputPathsMap": dict(self.input_transformer.input_paths),
                "InputTemplate": self.input_transformer.input_template,
            }
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
    """One ``aws_cloudwatch_event_rule`` instance and its targets."""

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


def read_rules(
    env_file: Path,
    tf_dir: Path = PROJECT_ROOT,
    *,
    account_id: str = LOCAL_ACCOUNT_ID,
    region: str | None = None,
    partition: str = "aws",
) -> list[RuleSpec]:
    """The rules (sorted by name) Terraform would create from ``tf_dir`` with ``-var-file=env_file``.

    ``region`` defaults to the tfvars' ``aws_region`` (the provider's region).
    """
    module = _Module.load(tf_dir)
    variables = module.variable_values(_read_tfvars(env_file))
    region = region or str(variables.get("aws_region") or "us-east-1")
    data = {
        "aws_caller_identity": {"current": {"account_id": account_id}},
        "aws_region": {"current": {"name": region, "region": region}},
        "aws_partition": {"current": {"partition": partition, "dns_suffix": "amazonaws.com"}},
    }
    evaluator = _Evaluator(module, variables, data, _Arns(partition, region, account_id))
    targets: dict[str, list[TargetSpec]] = {}
    for instance in evaluator.instances("aws_cloudwatch_event_target"):
        rule_name, target = _target(instance)
        targets.setdefault(rule_name, []).append(target)
    rules = [_rule(instance, targets) for instance in evaluator.instances("aws_cloudwatch_event_rule")]
    unknown = set(targets) - {rule.name for rule in rules}
    if unknown:
        raise TfRulesError(f"targets refer to rules that are not declared: {sorted(unknown)}")
    return sorted(rules, key=lambda rule: rule.name)


def _rule(instance: _Instance, targets: Mapping[str, list[TargetSpec]]) -> RuleSpec:
    name = _string(instance.attr("name"), instance, "name")
    pattern = instance.attr_or("event_pattern", None)
    schedule = instance.attr_or("schedule_expression", None)
    if pattern is None and schedule is None:
        raise TfRulesError(f"{instance}: neither event_pattern nor schedule_expression is set")
    state = instance.attr_or("state", None)
    if state is None:
        state = "ENABLED" if instance.attr_or("is_enabled", True) else "DISABLED"
    return RuleSpec(
        name=name,
        description=str(instance.attr_or("description", "") or ""),
        event_pattern=json.loads(_string(pattern, instance, "event_pattern"))
        if pattern is not None
        else None,
        schedule_expression=None if schedule is None else _string(schedule, instance, "schedule_expression"),
        state=_string(state, instance, "state"),
        targets=tuple(targets.get(name, ())),
    )


def _target(instance: _Instance) -> tuple[str, TargetSpec]:
    for unsupported in ("input", "input_path", "event_bus_name"):
        if instance.attr_or(unsupported, None) is not None:
            raise TfRulesError(f"{instance}: {unsupported} is not supported by local_aws.tf_rules")
    target_id = instance.attr_or("target_id", None)
    if target_id is None:
        raise TfRulesError(f"{instance}: set target_id (Terraform would generate a random one)")
    arn = _string(instance.attr("arn"), instance, "arn")
    kind, resource_name = _arn_kind(arn, instance)

    transformer = None
    for block in instance.blocks("input_transformer"):
        transformer = InputTransformer(
            input_paths=dict(block.attr_or("input_paths", {}) or {}),
            input_template=_string(block.attr("input_template"), instance, "input_template"),
        )
    parameters: dict[str, str] | None = None
    for block in instance.blocks("sagemaker_pipeline_target"):
        parameters = {}
        for parameter in block.blocks("pipeline_parameter_list"):
            parameters[str(parameter.attr("name"))] = _string(parameter.attr("value"), instance, "value")
    if kind == "sagemaker_pipeline" and parameters is None:
        parameters = {}
    dead_letter = next((str(block.attr("arn")) for block in instance.blocks("dead_letter_config")), None)
    retry = next(
        (
            {key: int(block.attr(key)) for key in ("maximum_event_age_in_seconds", "maximum_retry_attempts")}
            for block in instance.blocks("retry_policy")
        ),
        None,
    )
    role = instance.attr_or("role_arn", None)
    spec = TargetSpec(
        id=_string(target_id, instance, "target_id"),
        arn_kind=kind,
        resource_name=resource_name,
        input_transformer=transformer,
        pipeline_parameters=parameters,
        arn=arn,
        role_arn=None if role is None else str(role),
        dead_letter_arn=dead_letter,
        retry_policy=retry,
    )
    return _string(instance.attr("rule"), instance, "rule"), spec


def _arn_kind(arn: str, where: object) -> tuple[ArnKind, str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise TfRulesError(f"{where}: target arn {arn!r} is not an ARN")
    service, resource = parts[2], parts[5]
    if service == "lambda" and resource.startswith("function:"):
        return "lambda", resource.split(":")[1]
    if service == "sagemaker" and resource.startswith("pipeline/"):
        return "sagemaker_pipeline", resource.split("/", 1)[1]
    if service == "sns":
        return "sns", resource
    if service == "sqs":
        return "sqs", resource
    raise TfRulesError(
        f"{where}: target {arn!r} is not a Lambda function, SageMaker pipeline, topic or queue"
    )


def _string(value: Any, where: object, what: str) -> str:
    if not isinstance(value, str):
        raise TfRulesError(f"{where}: {what} must be a string, got {_describe(value)}")
    return value


# --------------------------------------------------------------------------------------------------
# The module: variables, locals, resources
# --------------------------------------------------------------------------------------------------


def _parse(path: Path) -> Any:
    try:
        return _parse_text(path.read_text(encoding="utf-8"))
    except Exception as exc:  # lark raises several error types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise TfRulesError(f"{path}: not valid HCL: {first}") from exc


@functools.lru_cache(maxsize=64)
def _parse_text(text: str) -> Any:
    """Parsing is most of the cost (~0.5 s for the repository); the trees are only read."""
    return hcl2.parses(text, discard_comments=True)


def _body_items(body: Any) -> Iterator[Any]:
    for child in body.children:
        if isinstance(child, base.AttributeRule | base.BlockRule):
            yield child


def _label(node: Any) -> str:
    if isinstance(node, literals.IdentifierRule):
        return str(node.token.value)
    if isinstance(node, strings.StringRule):
        return "".join(process_escape_sequences(str(part.content.value)) for part in node.string_parts)
    raise TfRulesError(f"unexpected block label {node!r}")


def _attributes(body: Any) -> dict[str, Any]:
    return {
        str(item.identifier.token.value): item.expression
        for item in _body_items(body)
        if isinstance(item, base.AttributeRule)
    }


@dataclass
class _Module:
    directory: Path
    variables: dict[str, Any]  # name → variable block body
    locals: dict[str, tuple[Any, Path]]  # name → (expression, file)
    resources: dict[tuple[str, str], tuple[Any, Path]]  # (type, name) → (body, file)

    @classmethod
    def load(cls, directory: Path) -> _Module:
        files = sorted(directory.glob("*.tf"))
        if not files:
            raise TfRulesError(f"{directory}: no .tf files")
        module = cls(directory, {}, {}, {})
        for path in files:
            for item in _body_items(_parse(path).body):
                if not isinstance(item, base.BlockRule):
                    continue
                labels = [_label(label) for label in item.labels]
                kind = labels[0]
                if kind == "variable":
                    module.variables[labels[1]] = item.body
                elif kind == "locals":
                    for name, expression in _attributes(item.body).items():
                        module.locals[name] = (expression, path)
                elif kind == "resource":
                    module.resources[(labels[1], labels[2])] = (item.body, path)
                elif kind == "module":
                    raise TfRulesError(f"{path}: modules are not supported by local_aws.tf_rules")
        return module

    def variable_values(self, tfvars: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        empty = _Evaluator(self, {}, {}, _Arns("aws", "us-east-1", LOCAL_ACCOUNT_ID))
        for name, body in self.variables.items():
            attributes = _attributes(body)
            type_spec = _type_spec(attributes["type"]) if "type" in attributes else ("any",)
            if name in tfvars:
                raw = tfvars[name]
            elif "default" in attributes:
                raw = empty.evaluate(attributes["default"], {})
            else:
                raise TfRulesError(f"variable {name!r} has no default and the tfvars file does not set it")
            values[name] = _convert(raw, type_spec, f"var.{name}")
        return values


def _read_tfvars(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise TfRulesError(f"{path}: file not found")
    empty = _Evaluator(_Module(path.parent, {}, {}, {}), {}, {}, _Arns("aws", "us-east-1", LOCAL_ACCOUNT_ID))
    return {name: empty.evaluate(node, {}) for name, node in _attributes(_parse(path).body).items()}


# --------------------------------------------------------------------------------------------------
# Types: variable type constraints and conversion
# --------------------------------------------------------------------------------------------------

TypeSpec = tuple[Any, ...]


def _type_spec(node: Any) -> TypeSpec:
    node = _unwrap(node)
    if isinstance(node, literals.IdentifierRule):
        name = str(node.token.value)
        if name in ("string", "number", "bool", "any"):
            return (name,)
    if isinstance(node, functions.FunctionCallRule):
        name = _label(node.identifiers[0])
        arguments = list(node.arguments.arguments) if node.arguments else []
        if name in ("list", "set", "map") and len(arguments) == 1:
            return (name, _type_spec(arguments[0]))
        if name == "object" and len(arguments) == 1:
            attributes: dict[str, tuple[TypeSpec, bool, Any]] = {}
            for element in _unwrap(arguments[0]).elements:
                key = _object_key(element, None)
                value = _unwrap(element.expression)
                if (
                    isinstance(value, functions.FunctionCallRule)
                    and _label(value.identifiers[0]) == "optional"
                ):
                    inner = list(value.arguments.arguments) if value.arguments else []
                    default = (
                        _Evaluator.static(inner[1]) if len(inner) > 1 else None  # optional(type, default)
                    )
                    attributes[key] = (_type_spec(inner[0]), True, default)
                else:
                    attributes[key] = (_type_spec(value), False, None)
            return ("object", attributes)
        if name == "tuple" and len(arguments) == 1:
            return ("tuple", [_type_spec(element) for element in _unwrap(arguments[0]).elements])
    raise TfRulesError(f"unsupported type constraint: {node.serialize()}")


def _convert(value: Any, spec: TypeSpec, where: str) -> Any:
    if value is None:
        return None
    kind = spec[0]
    if kind == "any":
        return value
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number_text(value)
        if isinstance(value, str):
            return value
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return _number(value)
            except ValueError:
                pass
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
    elif kind in ("list", "set") and isinstance(value, list):
        items = [_convert(item, spec[1], f"{where}[{i}]") for i, item in enumerate(value)]
        return _set(items) if kind == "set" else items
    elif kind == "tuple" and isinstance(value, list) and len(value) == len(spec[1]):
        return [
            _convert(item, item_spec, f"{where}[{i}]")
            for i, (item, item_spec) in enumerate(zip(value, spec[1], strict=True))
        ]
    elif kind == "map" and isinstance(value, dict):
        return {key: _convert(item, spec[1], f"{where}.{key}") for key, item in value.items()}
    elif kind == "object" and isinstance(value, dict):
        extra = set(value) - set(spec[1])
        if extra:
            raise TfRulesError(f"{where}: unsupported attribute(s) {sorted(extra)}")
        converted = {}
        for key, (attribute_spec, optional, default) in spec[1].items():
            if key in value:
                converted[key] = _convert(value[key], attribute_spec, f"{where}.{key}")
            elif optional:
                converted[key] = _convert(default, attribute_spec, f"{where}.{key}")
            else:
                raise TfRulesError(f"{where}: attribute {key!r} is required")
        return converted
    raise TfRulesError(f"{where}: {_describe(value)} is not a {kind}")


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arns:
    partition: str
    region: str
    account: str

    def of(self, resource_type: str, arguments: Callable[[str], Any]) -> dict[str, Callable[[], Any]]:
        """Computed attributes (ARN, id) of a resource, from its arguments, as AWS forms them."""
        p, r, a = self.partition, self.region, self.account
        table: dict[str, dict[str, Callable[[], Any]]] = {
            "aws_lambda_function": {
                "arn": lambda: f"arn:{p}:lambda:{r}:{a}:function:{arguments('function_name')}",
                "id": lambda: arguments("function_name"),
            },
            "aws_sns_topic": {"arn": lambda: f"arn:{p}:sns:{r}:{a}:{arguments('name')}"},
            "aws_sqs_queue": {
                "arn": lambda: f"arn:{p}:sqs:{r}:{a}:{arguments('name')}",
                "url": lambda: f"https://sqs.{r}.amazonaws.com/{a}/{arguments('name')}",
            },
            "aws_iam_role": {
                "arn": lambda: f"arn:{p}:iam::{a}:role/{arguments('name')}",
                "id": lambda: arguments("name"),
            },
            "aws_cloudwatch_event_rule": {
                "arn": lambda: f"arn:{p}:events:{r}:{a}:rule/{arguments('name')}",
                "id": lambda: arguments("name"),
            },
            "aws_cloudwatch_log_group": {
                "arn": lambda: f"arn:{p}:logs:{r}:{a}:log-group:{arguments('name')}"
            },
            "aws_s3_bucket": {
                "arn": lambda: f"arn:{p}:s3:::{arguments('bucket')}",
                "id": lambda: arguments("bucket"),
            },
        }
        computed = dict(table.get(resource_type, {}))
        if resource_type == "aws_sqs_queue":
            computed["id"] = computed["url"]
        return computed


class _Root:
    """``var``, ``local``, ``data``, ``path`` or a resource type: resolved by the next attribute."""

    def __init__(self, evaluator: _Evaluator, kind: str) -> None:
        self.evaluator = evaluator
        self.kind = kind

    def get(self, name: str) -> Any:
        return self.evaluator.root_attribute(self.kind, name)


class _Collection:
    """All instances of one resource (``aws_x.y``): index it by its for_each key or count index."""

    def __init__(self, evaluator: _Evaluator, resource_type: str, name: str) -> None:
        self.evaluator = evaluator
        self.type = resource_type
        self.name = name

    def index(self, key: Any) -> _Instance:
        for instance in self.evaluator.instances(self.type, self.name):
            if instance.key == key:
                return instance
        raise TfRulesError(f"{self.type}.{self.name} has no instance [{json.dumps(key)}]")

    def get(self, attribute: str) -> Any:
        instances = list(self.evaluator.instances(self.type, self.name))
        if len(instances) == 1 and instances[0].key is None:
            return instances[0].attr(attribute)
        raise TfRulesError(f"{self.type}.{self.name} has several instances: index it before .{attribute}")


class _Instance:
    """One resource instance, or one (dynamic) block inside it, with its evaluation scope."""

    def __init__(
        self,
        evaluator: _Evaluator,
        label: str,
        body: Any,
        scope: dict[str, Any],
        *,
        resource_type: str = "",
        key: Any = None,
    ) -> None:
        self.evaluator = evaluator
        self.label = label
        self.body = body
        self.scope = scope
        self.key = key
        self._attributes = _attributes(body)
        self._computed = evaluator.arns.of(resource_type, self.attr) if resource_type else {}

    def __str__(self) -> str:
        return self.label

    def attr(self, name: str) -> Any:
        if name in self._attributes:
            return self.evaluator.evaluate(self._attributes[name], self.scope)
        if name in self._computed:
            return self._computed[name]()
        raise TfRulesError(f"{self}.{name} is not set in the configuration (known only after apply)")

    def attr_or(self, name: str, default: Any) -> Any:
        if name in self._attributes:
            return self.evaluator.evaluate(self._attributes[name], self.scope)
        return default

    def blocks(self, block_type: str) -> Iterator[_Instance]:
        """Nested blocks of ``block_type``: the literal ones and those a ``dynamic`` block generates."""
        for item in _body_items(self.body):
            if not isinstance(item, base.BlockRule):
                continue
            labels = [_label(label) for label in item.labels]
            if labels == [block_type]:
                yield _Instance(self.evaluator, f"{self}.{block_type}", item.body, self.scope)
            elif labels == ["dynamic", block_type]:
                settings = _attributes(item.body)
                iterator = block_type
                if "iterator" in settings:
                    iterator = _label(_unwrap(settings["iterator"]))
                content = next(
                    (
                        child.body
                        for child in _body_items(item.body)
                        if isinstance(child, base.BlockRule) and _label(child.labels[0]) == "content"
                    ),
                    None,
                )
                if content is None:
                    raise TfRulesError(f"{self}: dynamic {block_type!r} has no content block")
                collection = self.evaluator.evaluate(settings["for_each"], self.scope)
                for key, value in _items(collection, f"{self}: dynamic {block_type} for_each"):
                    scope = {**self.scope, iterator: {"key": key, "value": value}}
                    yield _Instance(self.evaluator, f"{self}.{block_type}[{json.dumps(key)}]", content, scope)


class _Evaluator:
    def __init__(
        self, module: _Module, variables: Mapping[str, Any], data: Mapping[str, Any], arns: _Arns
    ) -> None:
        self.module = module
        self.variables = variables
        self.data = data
        self.arns = arns
        self._locals: dict[str, Any] = {}
        self._evaluating: list[str] = []
        self._instances: dict[tuple[str, str], list[_Instance]] = {}

    @staticmethod
    def static(node: Any) -> Any:
        """A value that refers to nothing (a type default)."""
        return _Evaluator(_Module(Path("."), {}, {}, {}), {}, {}, _Arns("aws", "", "")).evaluate(node, {})

    # --- resources ---------------------------------------------------------------------------------

    def instances(self, resource_type: str, name: str | None = None) -> list[_Instance]:
        """Every instance of the resources of ``resource_type`` (named ``name`` if given), in key order."""
        found: list[_Instance] = []
        for (rtype, rname), (body, path) in self.module.resources.items():
            if rtype != resource_type or (name is not None and rname != name):
                continue
            if (rtype, rname) not in self._instances:
                self._instances[(rtype, rname)] = self._expand(rtype, rname, body, path)
            found.extend(self._instances[(rtype, rname)])
        return found

    def _expand(self, rtype: str, rname: str, body: Any, path: Path) -> list[_Instance]:
        settings = _attributes(body)
        address = f"{path.name}: {rtype}.{rname}"
        if "for_each" in settings:
            collection = self.evaluate(settings["for_each"], {})
            if isinstance(collection, list):  # a set of strings: each.key == each.value
                collection = {str(item): item for item in collection}
            if not isinstance(collection, dict):
                raise TfRulesError(f"{address}: for_each must be a map or a set of strings")
            return [
                _Instance(
                    self,
                    f"{address}[{json.dumps(key)}]",
                    body,
                    {"each": {"key": key, "value": value}},
                    resource_type=rtype,
                    key=key,
                )
                for key, value in sorted(collection.items())
            ]
        if "count" in settings:
            count = self.evaluate(settings["count"], {})
            return [
                _Instance(self, f"{address}[{i}]", body, {"count": {"index": i}}, resource_type=rtype, key=i)
                for i in range(int(count))
            ]
        return [_Instance(self, address, body, {}, resource_type=rtype)]

    # --- references --------------------------------------------------------------------------------

    def root_attribute(self, kind: str, name: str) -> Any:
        if kind == "var":
            if name not in self.variables:
                raise TfRulesError(f"var.{name} is not declared")
            return self.variables[name]
        if kind == "local":
            return self.local(name)
        if kind == "data":
            if name not in self.data:
                raise TfRulesError(f"data.{name} is not available without Terraform")
            return self.data[name]
        if kind == "path":
            if name in ("module", "root", "cwd"):
                return str(self.module.directory)
            raise TfRulesError(f"path.{name} is not supported")
        if (kind, name) in self.module.resources:
            return _Collection(self, kind, name)
        raise TfRulesError(f"{kind}.{name} is not declared")

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.module.locals:
            raise TfRulesError(f"local.{name} is not declared")
        if name in self._evaluating:
            raise TfRulesError(f"local.{name} refers to itself: {' → '.join([*self._evaluating, name])}")
        self._evaluating.append(name)
        try:
            expression, path = self.module.locals[name]
            try:
                value = self.evaluate(expression, {})
            except TfRulesError as exc:
                if str(exc).startswith("in local."):
                    raise
                raise TfRulesError(f"in local.{name} ({path.name}): {exc}") from exc
        finally:
            self._evaluating.pop()
        self._locals[name] = value
        return value

    # --- expressions -------------------------------------------------------------------------------

    def evaluate(self, node: Any, scope: Mapping[str, Any]) -> Any:
        node = _unwrap(node)
        if isinstance(node, literals.LiteralValueRule):
            return {"true": True, "false": False, "null": None}[str(node.token.value)]
        if isinstance(node, literals.IntLitRule | literals.FloatLitRule):
            return _number(str(node.token.value))
        if isinstance(node, strings.StringRule):
            return self._template(node, scope)
        if isinstance(node, containers.TupleRule):
            return [self.evaluate(element, scope) for element in node.elements]
        if isinstance(node, containers.ObjectRule):
            return {
                _object_key(element, lambda n: self.evaluate(n, scope)): self.evaluate(
                    element.expression, scope
                )
                for element in node.elements
            }
        if isinstance(node, literals.IdentifierRule):
            return self._identifier(str(node.token.value), scope)
        if isinstance(node, indexing.GetAttrExprTermRule):
            return _get_attribute(self.evaluate(node.expr_term, scope), _label(node.get_attr.identifier))
        if isinstance(node, indexing.IndexExprTermRule):
            target, index = node.children[0], node.children[1]
            key = (
                self.evaluate(index.index_expression, scope)
                if isinstance(index, indexing.SqbIndexRule)
                else _number(str(index.index.value))
            )
            return _index(self.evaluate(target, scope), key)
        if isinstance(node, expressions.ConditionalRule):
            condition = self.evaluate(node.condition, scope)
            if not isinstance(condition, bool):
                raise TfRulesError(f"a condition must be a bool, got {_describe(condition)}")
            return self.evaluate(node.if_true if condition else node.if_false, scope)
        if isinstance(node, expressions.BinaryOpRule):
            left = self.evaluate(node.expr_term, scope)
            operator = str(node.binary_term.binary_operator.token.value)
            right = self.evaluate(node.binary_term.expr_term, scope)
            return _binary(operator, left, right)
        if isinstance(node, expressions.UnaryOpRule):
            value = self.evaluate(node.expr_term, scope)
            if node.operator == "!" and isinstance(value, bool):
                return not value
            if node.operator == "-" and isinstance(value, int | float) and not isinstance(value, bool):
                return -value
            raise TfRulesError(f"cannot apply {node.operator} to {_describe(value)}")
        if isinstance(node, functions.FunctionCallRule):
            return self._call(node, scope)
        if isinstance(node, for_expressions.ForTupleExprRule | for_expressions.ForObjectExprRule):
            return self._for(node, scope)
        raise TfRulesError(f"unsupported expression: {node.serialize()}")

    def _identifier(self, name: str, scope: Mapping[str, Any]) -> Any:
        if name in scope:
            return scope[name]
        if name in ("var", "local", "data", "path") or any(
            rtype == name for rtype, _ in self.module.resources
        ):
            return _Root(self, name)
        raise TfRulesError(f"unknown reference {name!r}")

    def _template(self, node: Any, scope: Mapping[str, Any]) -> Any:
        parts = []
        for part in node.string_parts:
            content = part.content
            if isinstance(content, strings.InterpolationRule):
                value = self.evaluate(content.expression, scope)
                if len(node.string_parts) == 1:
                    return value  # "${x}" is x itself, of any type
                parts.append(_template_text(value))
            elif content.lark_name() == "STRING_CHARS":
                parts.append(process_escape_sequences(str(content.value)))
            elif content.lark_name() in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                parts.append(str(content.value)[1:])  # $${ → ${, %%{ → %{
            else:
                raise TfRulesError(f"template directives are not supported: {node.serialize()}")
        return "".join(parts)

    def _call(self, node: Any, scope: Mapping[str, Any]) -> Any:
        name = "::".join(_label(identifier) for identifier in node.identifiers)
        arguments = list(node.arguments.arguments) if node.arguments else []
        if node.arguments is not None and node.arguments.has_ellipsis:
            raise TfRulesError(f"{name}(...): argument expansion is not supported")
        if name in ("try", "can"):
            for argument in arguments:
                try:
                    value = self.evaluate(argument, scope)
                except TfRulesError:
                    if name == "can":
                        return False
                    continue
                return True if name == "can" else value
            if name == "try":
                raise TfRulesError("try(): no argument could be evaluated")
        function = _FUNCTIONS.get(name)
        if function is None:
            raise TfRulesError(f"function {name}() is not supported by local_aws.tf_rules")
        values = [self.evaluate(argument, scope) for argument in arguments]
        try:
            return function(*values)
        except TfRulesError:
            raise
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            raise TfRulesError(f"{name}(): {exc}") from exc

    def _for(self, node: Any, scope: Mapping[str, Any]) -> Any:
        intro = node.for_intro
        first = _label(intro.first_iterator)
        second = _label(intro.second_iterator) if intro.second_iterator is not None else None
        collection = self.evaluate(intro.iterable, scope)
        is_object = isinstance(node, for_expressions.ForObjectExprRule)
        if is_object and node.ellipsis is not None:
            raise TfRulesError("grouping (...) in for expressions is not supported")
        tuple_result: list[Any] = []
        object_result: dict[str, Any] = {}
        for key, value in _items(collection, "for expression"):
            inner = {**scope, first: value} if second is None else {**scope, first: key, second: value}
            if node.condition is not None:
                keep = self.evaluate(node.condition.condition_expr, inner)
                if not isinstance(keep, bool):
                    raise TfRulesError(f"a for expression's if must be a bool, got {_describe(keep)}")
                if not keep:
                    continue
            if is_object:
                result_key = self.evaluate(node.key_expr, inner)
                if result_key in object_result:
                    raise TfRulesError(f"duplicate key {result_key!r} in a for expression")
                object_result[_template_text(result_key)] = self.evaluate(node.value_expr, inner)
            else:
                tuple_result.append(self.evaluate(node.value_expr, inner))
        return object_result if is_object else tuple_result


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------


def _unwrap(node: Any) -> Any:
    while isinstance(node, expressions.ExprTermRule):
        node = node.expression
    return node


def _object_key(element: Any, evaluate: Callable[[Any], Any] | None) -> str:
    key_node = element.key
    if isinstance(key_node, containers.ObjectElemKeyExpressionRule):
        if evaluate is None:
            raise TfRulesError("computed keys are not allowed here")
        return _template_text(evaluate(key_node.expression))
    value = key_node.value
    if isinstance(value, literals.IntLitRule | literals.FloatLitRule):
        return str(value.token.value)
    return _label(value)


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "e" not in text.lower() and "." not in text else value


def _number_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and not math.isinf(value):
        return str(int(value))
    return str(value)


def _template_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    raise TfRulesError(f"cannot use {_describe(value)} in a string template")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__.lstrip("_").lower()


def _get_attribute(value: Any, name: str) -> Any:
    if isinstance(value, _Root | _Collection):
        return value.get(name)
    if isinstance(value, _Instance):
        return value.attr(name)
    if isinstance(value, dict):
        if name not in value:
            raise TfRulesError(f"no attribute {name!r} (has {sorted(value)})")
        return value[name]
    raise TfRulesError(f"cannot read .{name} of {_describe(value)}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, _Collection):
        return value.index(key)
    if isinstance(value, _Root):
        return value.get(_template_text(key))
    if isinstance(value, list):
        if not isinstance(key, int | float) or isinstance(key, bool) or int(key) != key:
            raise TfRulesError(f"a list index must be a whole number, got {_describe(key)}")
        if not 0 <= int(key) < len(value):
            raise TfRulesError(f"index {int(key)} is out of range (length {len(value)})")
        return value[int(key)]
    if isinstance(value, dict):
        text = _template_text(key)
        if text not in value:
            raise TfRulesError(f"no key {text!r} (has {sorted(value)})")
        return value[text]
    raise TfRulesError(f"cannot index {_describe(value)}")


def _items(collection: Any, where: str) -> list[tuple[Any, Any]]:
    """(key, value) pairs in Terraform's iteration order: list order, or keys in lexical order."""
    if isinstance(collection, list):
        return list(enumerate(collection))
    if isinstance(collection, dict):
        return sorted(collection.items())
    raise TfRulesError(f"{where}: cannot iterate over {_describe(collection)}")


def _set(items: Sequence[Any]) -> list[Any]:
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    if all(isinstance(item, str) for item in unique):
        return sorted(unique)
    return unique


def _binary(operator: str, left: Any, right: Any) -> Any:
    if operator == "==":
        return _same_type(left, right) and left == right
    if operator == "!=":
        return not (_same_type(left, right) and left == right)
    if operator in ("&&", "||"):
        if not isinstance(left, bool) or not isinstance(right, bool):
            raise TfRulesError(f"{operator} needs two bools")
        return (left and right) if operator == "&&" else (left or right)
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool) for value in (left, right))
    if not numbers:
        raise TfRulesError(f"{operator} needs two numbers, got {_describe(left)} and {_describe(right)}")
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "%": lambda a, b: a % b,
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    if operator not in operations:
        raise TfRulesError(f"operator {operator} is not supported")
    return operations[operator](left, right)


def _same_type(left: Any, right: Any) -> bool:
    def kind(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int | float):
            return "number"
        return type(value).__name__

    return kind(left) == kind(right) or left is None or right is None


def _merge(*maps: Any) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for value in maps:
        if value is None:
            continue
        if not isinstance(value, dict):
            raise TfRulesError(f"merge() takes maps or objects, got {_describe(value)}")
        merged.update(value)
    return merged


def _length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)
    raise TfRulesError(f"length() of {_describe(value)}")


def _lookup(mapping: dict[str, Any], key: str, *default: Any) -> Any:
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise TfRulesError(f"lookup(): no key {key!r}")


def _flatten(value: list[Any]) -> list[Any]:
    result: list[Any] = []
    for item in value:
        result.extend(_flatten(item) if isinstance(item, list) else [item])
    return result


def _one(value: list[Any]) -> Any:
    if len(value) > 1:
        raise TfRulesError("one() of a list with more than one element")
    return value[0] if value else None


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise TfRulesError("coalesce(): no non-null, non-empty argument")


def _jsonencode(value: Any) -> str:
    def plain(item: Any) -> Any:
        if isinstance(item, _Root | _Collection | _Instance):
            raise TfRulesError("jsonencode() of a whole resource is not supported")
        if isinstance(item, dict):
            return {key: plain(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [plain(inner) for inner in item]
        return item

    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "coalesce": _coalesce,
    "compact": lambda values: [value for value in values if value not in (None, "")],
    "concat": lambda *lists: [item for values in lists for item in values],
    "contains": lambda values, value: value in values,
    "distinct": lambda values: [value for i, value in enumerate(values) if value not in values[:i]],
    "endswith": lambda text, suffix: text.endswith(suffix),
    "flatten": _flatten,
    "join": lambda separator, values: separator.join(_template_text(value) for value in values),
    "jsondecode": json.loads,
    "jsonencode": _jsonencode,
    "keys": sorted,
    "length": _length,
    "lookup": _lookup,
    "lower": lambda text: text.lower(),
    "merge": _merge,
    "one": _one,
    "sort": sorted,
    "startswith": lambda text, prefix: text.startswith(prefix),
    "tolist": list,
    "tomap": dict,
    "toset": _set,
    "tostring": _template_text,
    "trimspace": lambda text: text.strip(),
    "upper": lambda text: text.upper(),
    "values": lambda mapping: [mapping[key] for key in sorted(mapping)],
}
