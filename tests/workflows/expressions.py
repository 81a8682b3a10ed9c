"""GitHub Actions expressions (``${{ }}``), evaluated the way the runner does for what the
workflows use: contexts (a missing property is ``''``, never an error), ``==``/``!=`` (string
comparison ignoring case), ``&&``/``||`` (returning an operand, not a boolean), ``!``,
literals, the status functions and ``contains``, ``startsWith``, ``endsWith``, ``format``,
``join``, ``toJSON`` and ``fromJSON``.

Not covered: ``hashFiles``, object filters (``a.*.b``), index syntax (``a['b']``); an
expression using them fails loudly instead of evaluating to something plausible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_STRING = re.compile(r"('(?:[^']|'')*')")
_PATH = re.compile(r"(?<![\w.])[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+")
_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_STATUS = re.compile(r"\b(always|success|failure|cancelled)\(\)")
_FUNCTIONS = {
    "contains": "_contains",
    "startswith": "_startswith",
    "endswith": "_endswith",
    "format": "_format",
    "join": "_join",
    "tojson": "_tojson",
    "fromjson": "_fromjson",
    "always": "always",
    "success": "success",
    "failure": "failure",
    "cancelled": "cancelled",
}
_CALL = re.compile(r"\b([A-Za-z]+)\s*\(")


def text(value: Any) -> str:
    """A value as the runner writes it into a string (a script, an input, an env value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Str(str):
    """A string operand: ``==`` on strings ignores case, as in GitHub's expressions."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.casefold() == other.casefold()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


def _wrap(value: Any) -> Any:
    return _Str(value) if isinstance(value, str) else value


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(text(item).casefold() == text(needle).casefold() for item in haystack)
    return text(needle).casefold() in text(haystack).casefold()


def _format(template: str, *args: Any) -> str:
    out = str(template).replace("{{", "\0").replace("}}", "\1")
    for i, arg in enumerate(args):
        out = out.replace(f"{{{i}}}", text(arg))
    return out.replace("\0", "{").replace("\1", "}")


def _python(piece: str) -> str:
    """An expression outside its string literals, as Python."""
    out = piece.replace("&&", " and ").replace("||", " or ")
    out = re.sub(r"!(?!=)", " not ", out)
    out = re.sub(r"\btrue\b", "True", out)
    out = re.sub(r"\bfalse\b", "False", out)
    out = re.sub(r"\bnull\b", "None", out)
    if "[" in out or ".*" in out:
        raise AssertionError(f"the expression evaluator has no index or filter syntax: {piece}")

    def call(m: re.Match[str]) -> str:
        if m.group(1) in ("and", "or", "not"):
            return m.group(0)
        name = _FUNCTIONS.get(m.group(1).lower())
        if name is None:
            raise AssertionError(f"the expression evaluator has no function {m.group(1)}()")
        return f"{name}("

    out = _CALL.sub(call, out)
    return _PATH.sub(lambda m: f"_get({m.group(0)!r})", out)


@dataclass
class Context:
    values: dict[str, Any]
    failed: bool = False

    def get(self, path: str) -> Any:
        node: Any = self.values
        for part in path.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                return _Str("")
        return _Str("") if node is None else _wrap(node)

    def evaluate(self, expr: str) -> Any:
        pieces = _STRING.split(expr.strip())
        code = []
        for i, piece in enumerate(pieces):
            if i % 2:
                code.append(f"_Str({piece[1:-1].replace(chr(39) * 2, chr(39))!r})")
            else:
                code.append(_python(piece))
        names = {
            "_get": self.get,
            "_Str": _Str,
            "_contains": _contains,
            "_startswith": lambda a, b: text(a).casefold().startswith(text(b).casefold()),
            "_endswith": lambda a, b: text(a).casefold().endswith(text(b).casefold()),
            "_format": _format,
            "_join": lambda items, sep=",": text(sep).join(text(i) for i in items),
            "_tojson": lambda value: json.dumps(value, indent=2),
            "_fromjson": lambda value: _wrap(json.loads(text(value))),
            "always": lambda: True,
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "cancelled": lambda: False,
            "True": True,
            "False": False,
            "None": None,
        }
        return eval(" ".join(code).replace("\n", " "), {"__builtins__": {}}, names)

    def render(self, value: Any) -> Any:
        """``value`` with every ``${{ }}`` replaced (recursively in mappings and lists); a
        value that is one whole expression keeps its type (a matrix list, a boolean input)."""
        if isinstance(value, str):
            whole = _TEMPLATE.fullmatch(value.strip())
            if whole and value.strip() == value:
                result = self.evaluate(whole.group(1))
                return result if isinstance(result, (list, dict, bool)) else text(result)
            return _TEMPLATE.sub(lambda m: text(self.evaluate(m.group(1))), value)
        if isinstance(value, dict):
            return {k: self.render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v) for v in value]
        return value

    def render_text(self, value: Any) -> str:
        return text(self.render(value))

    def condition(self, expr: Any) -> bool:
        if expr is None or expr == "":
            return not self.failed
        source = str(expr).strip()
        if source.startswith("${{") and source.endswith("}}"):
            source = source[3:-2]
        if not _STATUS.search(source):
            source = f"success() && ({source})"
        return bool(self.evaluate(source))
