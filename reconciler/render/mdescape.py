"""Untrusted text made inert in Markdown (a pull-request comment, an issue, a summary). Pure.

Every text that came from the files or the live CRM goes through ``escape`` before it is put
in a Markdown document: HTML specials become entities, table pipes, backticks, brackets and
emphasis characters are neutralised, newlines become ``<br>``, and ``@`` / ``#`` get a
zero-width space after them so that no one is mentioned and no issue is cross-referenced.
Untrusted text is never put in a code span (nor in a Mermaid chart: ``render.timeline``).
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.render._values import value_text
from reconciler.textsafe import printable

VALUE_LIMIT = 120

_ZWSP = "&#8203;"
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        "|": "&#124;",
        "`": "&#96;",
        "\\": "&#92;",
        "[": "&#91;",
        "]": "&#93;",
        "*": "&#42;",
        "_": "&#95;",
        "~": "&#126;",
        "!": "&#33;",
        "@": "@" + _ZWSP,
        "#": "#" + _ZWSP,
        # GitHub renders $...$ and $$...$$ as math; its documented escape is \$.
        "$": "\\$",
        # Only escape() puts a zero-width space in: printable() spelled out any that came in.
        "\u200b": _ZWSP,
        "\n": "<br>",
    }
)
# Autolinks (GitHub's and linkify's): a scheme's "://", "www.", a bare domain's dots.
_SCHEME = re.compile(r":(?=/)")
_WWW = re.compile(r"(?i)(?<![^\W_])www(?=\.)")
_REFERENCE = re.compile(r"(?i)(?<![^\W_])gh-(?=\d)")
# A dot between word characters, before a letter: what a bare domain needs (a TLD starts with
# a letter), while a number such as 15.1 stays as written.
_DOMAIN_DOT = re.compile(r"(?<=[^\W_])\.(?=[^\W\d_])")


def escape(text: str) -> str:
    """Untrusted text, safe anywhere in this document: a table cell, a summary, a list item.

    Nothing in it can become HTML, a link (GitHub autolinks ``https://...``, ``www....`` and
    e-mail addresses; linkify also bare domains), a mention, an issue reference, math, code
    or emphasis, and control, bidi and invisible characters are spelled as escapes.
    Newlines become ``<br>``.
    """
    text = text.replace("\r\n", "\n").translate(_LINE_BREAKS)
    text = "\n".join(printable(line) for line in text.split("\n"))
    # A zero-width space breaks what GitHub scans for, whatever it does with the entities.
    text = _SCHEME.sub(":\u200b", text)
    text = _WWW.sub("www\u200b", text)
    text = _REFERENCE.sub(lambda m: m.group() + "\u200b", text)
    text = text.translate(_ESCAPES).replace("//", "&#47;&#47;")
    # An entity is a token of its own for linkify: "example&#46;com" is no domain.
    return _DOMAIN_DOT.sub("&#46;", text)


_LINE_BREAKS = str.maketrans({"\r": "\n", "\u2028": "\n", "\u2029": "\n", "\t": " "})


def cell(value: Any) -> str:
    """A canonical value, shortened, as a safe table cell; ``(not set)`` in italics."""
    if value is None:
        return "_(not set)_"
    return escape(value_text(value, limit=VALUE_LIMIT))
