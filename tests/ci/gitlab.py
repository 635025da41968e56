"""A small, strict model of how GitLab reads .gitlab-ci.yml, for offline structural tests.

It covers what this repository's file uses: ``extends`` (deep merge of hashes, lists replaced),
``default:``, ``workflow:rules`` and job ``rules`` with ``if`` expressions made of ``$VAR``, string and
``/regex/`` literals, ``==``, ``!=``, ``=~``, ``!~``, ``&&``, ``||`` and parentheses. Anything else in an
``if`` raises ``UnsupportedExpressionError``, so a construct this model does not know fails a test instead
of being read wrongly. gitlab-ci-local (``make ci-validate``) is the independent cross-check.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Top-level keys that are not jobs (https://docs.gitlab.com/ci/yaml/#global-keywords).
GLOBAL_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)
DEFAULT_KEYS = frozenset(
    {
        "after_script",
        "artifacts",
        "before_script",
        "cache",
        "hooks",
        "id_tokens",
        "image",
        "interruptible",
        "retry",
        "services",
        "tags",
        "timeout",
    }
)
DEFAULT_STAGES = ["build", "test", "deploy"]


class UnsupportedExpressionError(ValueError):
    pass


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a mapping")
    return data


def stages(ci: Mapping[str, Any]) -> list[str]:
    declared = ci.get("stages", DEFAULT_STAGES)
    return [".pre", *declared, ".post"]


def job_names(ci: Mapping[str, Any]) -> list[str]:
    return [k for k in ci if k not in GLOBAL_KEYWORDS and not k.startswith(".")]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """GitLab's ``extends`` merge: hashes merge key by key, every other value (lists too) is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve(ci: Mapping[str, Any], name: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The job ``name`` with its ``extends`` chain merged in (``default:`` not applied)."""
    if name in _seen:
        raise ValueError(f"extends cycle: {' -> '.join((*_seen, name))}")
    if name not in ci:
        raise KeyError(f"{_seen[-1] if _seen else name}: extends unknown {name!r}")
    own = dict(ci[name])
    parents = own.pop("extends", [])
    parents = [parents] if isinstance(parents, str) else list(parents)
    merged: dict[str, Any] = {}
    for parent in parents:
        merged = deep_merge(merged, resolve(ci, parent, (*_seen, name)))
    return deep_merge(merged, own)


def effective(ci: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The job as a runner gets it: ``extends`` resolved, then ``default:`` for keys it does not set."""
    job = resolve(ci, name)
    for key, value in (ci.get("default") or {}).items():
        if key in DEFAULT_KEYS and key not in job:
            job[key] = copy.deepcopy(value)
    return job


def script_lines(job: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("before_script", "script", "after_script"):
        lines.extend(_flatten(job.get(key, [])))
    return lines


def _flatten(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    for item in value or []:
        out.extend(_flatten(item))
    return out


# --- rules -----------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>==|!=|=~|!~|&&|\|\|)
      | (?P<paren>[()])
      | (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
      | (?P<str>"[^"]*"|'[^']*')
      | (?P<regex>/(?:\\.|[^/\\])*/[imsx]*)
      | (?P<null>null)\b
    )""",
    re.VERBOSE,
)


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    expression = expression.strip()
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if not match or match.end() == pos:
            raise UnsupportedExpressionError(f"cannot read {expression[pos:]!r} in {expression!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    variables: Mapping[str, str]
    pos: int = 0

    def parse(self) -> bool:
        value = self._or()
        if self.pos != len(self.tokens):
            raise UnsupportedExpressionError(f"unexpected {self.tokens[self.pos][1]!r}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == ("op", "||"):
            self.pos += 1
            right = self._and()
            value = value or right
        return value

    def _and(self) -> bool:
        value = self._atom()
        while self._peek() == ("op", "&&"):
            self.pos += 1
            right = self._atom()
            value = value and right
        return value

    def _atom(self) -> bool:
        token = self._peek()
        if token == ("paren", "("):
            self.pos += 1
            value = self._or()
            if self._peek() != ("paren", ")"):
                raise UnsupportedExpressionError("unbalanced parentheses")
            self.pos += 1
            return value
        left = self._operand()
        nxt = self._peek()
        if nxt is None or nxt[0] != "op" or nxt[1] in ("&&", "||"):
            return bool(left)  # a lone variable: defined and not empty
        self.pos += 1
        op = nxt[1]
        if op in ("=~", "!~"):
            kind, text = self._next()
            if kind != "regex":
                raise UnsupportedExpressionError(f"{op} needs a /regex/ literal, got {text!r}")
            body, flags = text[1:].rsplit("/", 1)
            found = left is not None and re.search(body, left, re.IGNORECASE if "i" in flags else 0)
            return bool(found) if op == "=~" else not found
        right = self._operand()
        return (left == right) if op == "==" else (left != right)

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise UnsupportedExpressionError("expression ends too early")
        self.pos += 1
        return token

    def _operand(self) -> str | None:
        kind, text = self._next()
        if kind == "var":
            return self.variables.get(text.strip("${}"))
        if kind == "str":
            return text[1:-1]
        if kind == "null":
            return None
        raise UnsupportedExpressionError(f"unexpected {text!r}")


def evaluate(expression: str, variables: Mapping[str, str]) -> bool:
    return _Parser(_tokens(expression), variables).parse()


@dataclass(frozen=True)
class RuleOutcome:
    included: bool
    when: str = "never"
    variables: Mapping[str, str] | None = None
    allow_failure: bool | None = None


def apply_rules(rules: list[Mapping[str, Any]] | None, variables: Mapping[str, str]) -> RuleOutcome:
    """First matching rule wins; no match excludes; no rules at all includes (``on_success``)."""
    if rules is None:
        return RuleOutcome(True, "on_success")
    for rule in rules:
        if set(rule) - {"if", "when", "variables", "allow_failure"}:
            raise UnsupportedExpressionError(f"rule keys not modelled: {sorted(rule)}")
        if "if" in rule and not evaluate(rule["if"], variables):
            continue
        when = rule.get("when", "on_success")
        return RuleOutcome(when != "never", when, rule.get("variables"), rule.get("allow_failure"))
    return RuleOutcome(False)


@dataclass(frozen=True)
class PlannedJob:
    name: str
    when: str
    job: Mapping[str, Any]


def pipeline(ci: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, PlannedJob] | None:
    """The jobs GitLab would create for a pipeline with these variables, or None: no pipeline at all."""
    workflow = (ci.get("workflow") or {}).get("rules")
    pipeline_vars = dict(variables)
    if workflow is not None:
        outcome = apply_rules(workflow, variables)
        if not outcome.included:
            return None
        pipeline_vars.update(outcome.variables or {})
    planned: dict[str, PlannedJob] = {}
    for name in job_names(ci):
        job = effective(ci, name)
        job_vars = {**pipeline_vars, **{k: str(v) for k, v in (job.get("variables") or {}).items()}}
        outcome = apply_rules(job.get("rules"), job_vars)
        if outcome.included:
            if outcome.variables:
                job = deep_merge(job, {"variables": dict(outcome.variables)})
            planned[name] = PlannedJob(name, outcome.when, job)
    return planned


def needed_jobs(job: Mapping[str, Any]) -> list[tuple[str, bool, bool]]:
    """``(name, artifacts, optional)`` for every entry of ``needs``."""
    out = []
    for need in job.get("needs") or []:
        if isinstance(need, str):
            out.append((need, True, False))
        else:
            out.append((need["job"], bool(need.get("artifacts", True)), bool(need.get("optional", False))))
    return out
