"""A ``.tfvars`` file read with Terraform's rules: literal values only, each key once, line numbers kept.

python-hcl2 accepts what Terraform refuses (a key given twice keeps the last value) and refuses what
Terraform accepts (``25e-1`` came back as "an expression"); its syntax errors name parser tokens and point
past the mistake. This reader parses the literal subset of HCL that ``-var-file`` takes: strings (with
escapes, ``$${`` for a literal ``${``, heredocs), numbers (``-1``, ``2.5``, ``25e-1``), ``true``, ``false``,
``null``, lists and objects; comments ``#``, ``//`` and ``/* */``. Anything else is refused with the line
and a plain sentence, as Terraform refuses it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class HclError(ValueError):
    """A refusal: ``line`` is 1-based, ``message`` a plain sentence."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class Parsed:
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line of its definition


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @property
    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def fail(self, message: str, pos: int | None = None) -> HclError:
        at = self.pos if pos is None else pos
        return HclError(self.text.count("\n", 0, at) + 1, message)

    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments; newlines too when ``newlines`` (inside brackets)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#" or self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("a /* comment is never closed with */")
                self.pos = end + 2
            else:
                return

    def closes(self, closer: str, what: str, start: int) -> bool:
        """Skip to the next item: True (and consume it) at ``closer``; an error at the end of the text."""
        self.skip(newlines=True)
        if self.peek() == closer:
            self.pos += 1
            return True
        if not self.peek():
            raise self.fail(f"{what} is never closed with {closer!r}", start)
        return False

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def describe_here(self) -> str:
        rest = self.text[self.pos :].split("\n", 1)[0].strip()
        return repr(rest[:30]) if rest else "the end of the line"


def parse(text: str) -> Parsed:
    """The file's ``key = value`` definitions; HclError with the line on anything Terraform refuses."""
    reader = _Reader(text)
    parsed = Parsed()
    while True:
        reader.skip(newlines=True)
        if reader.pos >= len(text):
            return parsed
        start = reader.pos
        found = _IDENT.match(text, reader.pos)
        if not found:
            raise reader.fail(f"expected a variable name (key = value), found {reader.describe_here()}")
        key = found.group()
        reader.pos = found.end()
        reader.skip(newlines=False)
        if reader.peek() != "=":
            raise reader.fail(f"expected '=' after {key}, found {reader.describe_here()}")
        reader.pos += 1
        reader.skip(newlines=False)
        if reader.peek() in ("\n", ""):
            raise reader.fail(f"{key} has no value after '='")
        line = reader.fail("", start).line
        if key in parsed.lines:
            raise HclError(line, f"{key} is given twice (first on line {parsed.lines[key]}): keep one")
        parsed.values[key] = _value(reader, key)
        parsed.lines[key] = line
        reader.skip(newlines=False)
        if reader.peek() not in ("\n", ""):
            raise reader.fail(
                f"unexpected {reader.describe_here()} after the value of {key}: one key per line"
            )


def _value(reader: _Reader, where: str) -> Any:
    text = reader.text
    char = reader.peek()
    if char == '"':
        return _string(reader, where)
    if char == "[":
        return _list(reader, where)
    if char == "{":
        return _object(reader, where)
    if text.startswith("<<", reader.pos):
        return _heredoc(reader, where)
    number = _NUMBER.match(text, reader.pos)
    if number and not _IDENT.match(text, number.end()):
        reader.pos = number.end()
        return (
            json.loads(number.group())
            if "." in number.group() or "e" in number.group().lower()
            else int(number.group())
        )
    word = _IDENT.match(text, reader.pos)
    if word and word.group() in ("true", "false", "null"):
        reader.pos = word.end()
        return {"true": True, "false": False, "null": None}[word.group()]
    raise reader.fail(
        f"{where}: {reader.describe_here()} is not a literal value (a string in double quotes, a number, "
        "true, false, null, [list] or {map}); tfvars take no references, functions or expressions"
    )


def _string(reader: _Reader, where: str) -> str:
    text, start = reader.text, reader.pos
    reader.pos += 1
    out: list[str] = []
    while True:
        if reader.pos >= len(text) or text[reader.pos] == "\n":
            raise reader.fail(f"{where}: the string is never closed with '\"'", start)
        char = text[reader.pos]
        if char == '"':
            reader.pos += 1
            return "".join(out)
        if text.startswith("$${", reader.pos) or text.startswith("%%{", reader.pos):
            out.append(text[reader.pos + 1 : reader.pos + 3])
            reader.pos += 3
        elif text.startswith("${", reader.pos) or text.startswith("%{", reader.pos):
            raise reader.fail(
                f"{where}: the string holds a template ({text[reader.pos : reader.pos + 2]}...}}); "
                "tfvars take literal values only (write $${ for a literal ${)"
            )
        elif char == "\\":
            out.append(_escape(reader, where))
        else:
            out.append(char)
            reader.pos += 1


def _escape(reader: _Reader, where: str) -> str:
    text = reader.text
    code = text[reader.pos + 1 : reader.pos + 2]
    if code in _ESCAPES:
        reader.pos += 2
        return _ESCAPES[code]
    for letter, digits in (("u", 4), ("U", 8)):
        hexa = text[reader.pos + 2 : reader.pos + 2 + digits]
        if code == letter and re.fullmatch(rf"[0-9A-Fa-f]{{{digits}}}", hexa):
            reader.pos += 2 + digits
            return chr(int(hexa, 16))
    raise reader.fail(f"{where}: unknown escape \\{code} in a string (use \\\\ for a backslash)")


def _heredoc(reader: _Reader, where: str) -> str:
    found = _HEREDOC.match(reader.text, reader.pos)
    if not found:
        raise reader.fail(f"{where}: a heredoc starts with <<EOF (or <<-EOF) and a line break")
    indent, marker = found.groups()
    lines: list[str] = []
    pos = found.end()
    while pos < len(reader.text):
        end = reader.text.find("\n", pos)
        end = len(reader.text) if end < 0 else end
        line = reader.text[pos:end]
        if line.strip() == marker:
            reader.pos = end
            if indent:
                strip = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
                lines = [x[strip:] for x in lines]
            return "".join(x + "\n" for x in lines)
        lines.append(line)
        pos = end + 1
    raise reader.fail(f"{where}: the heredoc is never closed with a line {marker}")


def _list(reader: _Reader, where: str) -> list[Any]:
    start = reader.pos
    reader.pos += 1
    items: list[Any] = []
    while not reader.closes("]", f"{where}: the list", start):
        items.append(_value(reader, f"{where}[{len(items)}]"))
        reader.skip(newlines=True)
        if reader.peek() == ",":
            reader.pos += 1
        elif reader.peek() not in ("]", ""):
            raise reader.fail(f"{where}: expected ',' or ']' in the list, found {reader.describe_here()}")
    return items


def _object(reader: _Reader, where: str) -> dict[str, Any]:
    start = reader.pos
    reader.pos += 1
    items: dict[str, Any] = {}
    while not reader.closes("}", f"{where}: the map", start):
        at = reader.pos
        if reader.peek() == '"':
            key = _string(reader, where)
        else:
            found = _IDENT.match(reader.text, reader.pos)
            if not found:
                raise reader.fail(f"{where}: expected a key in the map, found {reader.describe_here()}")
            key, reader.pos = found.group(), found.end()
        if key in items:
            raise reader.fail(f"{where}: key {key!r} is given twice in the map", at)
        reader.skip(newlines=False)
        if reader.peek() not in ("=", ":"):
            raise reader.fail(f"{where}.{key}: expected '=' after the key, found {reader.describe_here()}")
        reader.pos += 1
        reader.skip(newlines=False)
        items[key] = _value(reader, f"{where}.{key}")
        reader.skip(newlines=False)
        if reader.peek() == ",":
            reader.pos += 1
        elif reader.peek() not in ("\n", "}"):
            raise reader.fail(
                f"{where}: expected ',' or a new line after {key}, found {reader.describe_here()}"
            )
    return items
