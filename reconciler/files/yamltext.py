"""How a value is spelled in the text of a YAML file, as a person would write it.

The pieces ``reconciler.files.adopt`` writes a file with: a scalar in the style the file
used for it, a flow collection on one line, block lines at a column, a date in the file's
own spelling. Each reads back (``yaml.safe_load``) as the value it was given.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import yaml

from reconciler.model.canonical import parse_datetime

BARE_DATE: Final = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
OFFSET: Final = re.compile(r"([+-])(\d{2}):?(\d{2})?\s*$")


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def date_like(value: str, *, written: str) -> str:
    """The live UTC day ``value`` spelled the way the file spelled its date: a bare date, or
    the same instant at the file's own offset (the server keeps the UTC day either way)."""
    moment = parse_datetime(value, lenient=True)
    if moment is None:
        return value
    if BARE_DATE.match(written):
        return moment.strftime("%Y-%m-%d")
    offset = OFFSET.search(written)
    if offset is None or written.rstrip().endswith(("Z", "z")):
        return value
    sign = -1 if offset.group(1) == "-" else 1
    delta = sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
    if not delta:
        return value
    local = moment.astimezone(timezone(delta))
    return local.isoformat(timespec="seconds")


def scalar(value: Any, *, style: str | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if style in (None, "", "|", ">") and plain_ok(text):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def plain_ok(text: str) -> bool:
    """``text`` reads back as the same string when written without quotes."""
    if not text or text != text.strip() or "\n" in text:
        return False
    try:
        return bool(yaml.safe_load(f"k: {text}\n") == {"k": text})
    except yaml.YAMLError:
        return False


def flow_text(text: str) -> str:
    """A string inside a flow collection, where ``,[]{}`` end a plain scalar."""
    if plain_ok(text) and not any(c in text for c in ",[]{}"):
        return text
    return json.dumps(text, ensure_ascii=False)


def key_text(name: Any) -> str:
    return flow_text(str(name))


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_text(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str):
        return flow_text(value)
    return scalar(value, style=None)


def inline(value: Any) -> bool:
    """Written on its key's line: scalars, and collections that hold no objects."""
    if isinstance(value, dict):
        return all(not isinstance(v, dict | list) or inline(v) for v in value.values())
    if isinstance(value, list):
        return all(not isinstance(v, dict) for v in value)
    return True


def block_lines(value: Any, column: int) -> list[str]:
    """Block lines at ``column`` (each line carries its own indentation)."""
    pad = " " * column
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if inline(item):
                lines.append(f"{pad}{key_text(key)}: {flow(item)}")
            else:
                lines.append(f"{pad}{key_text(key)}:")
                lines.extend(block_lines(item, column + 2))
        return lines
    for item in value:
        if isinstance(item, dict) and item:
            inner = block_lines(item, column + 2)
            inner[0] = f"{pad}- " + inner[0].removeprefix(" " * (column + 2))
            lines.extend(inner)
        else:
            lines.append(f"{pad}- {flow(item)}")
    return lines


__all__ = [
    "BARE_DATE",
    "OFFSET",
    "block_lines",
    "date_like",
    "flow",
    "flow_text",
    "inline",
    "json_text",
    "key_text",
    "plain_ok",
    "scalar",
]
