"""Text that came from a file or the CRM, made safe to print on a terminal or in a log.

A file name, a key or a value can hold characters a terminal acts on (escape sequences move
the cursor or rewrite earlier lines) or that reorder what is shown (the bidirectional
overrides of "Trojan source": ``\u202e`` makes ``gpj.yaml`` read as ``lmay.jpg``), and
invisible ones that make two different keys look alike. ``printable`` spells each of them
as a visible escape, so what is shown is what is there.
"""

from __future__ import annotations

import re
from typing import Final

# C0/C1 controls, DEL, the line and paragraph separators, the bidi marks, embeddings,
# overrides and isolates, the zero-width characters and the byte order mark.
UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` with every control, bidi or invisible character spelled as an escape."""
    return UNSAFE.sub(lambda m: _escape_char(m.group()), text)


def _escape_char(char: str) -> str:
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return named.get(char) or f"\\u{ord(char):04x}"


__all__ = ["UNSAFE", "printable"]
