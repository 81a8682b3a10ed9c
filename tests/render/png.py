"""A small PNG reader for the browser tests (8-bit RGB and RGBA, as Chromium writes them):
pixels to compare by colour region, so a new font version changes nothing the tests read."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    rows: tuple[bytes, ...]  # RGB, 3 bytes a pixel
    _counts: list[Counter[tuple[int, int, int]]] = field(default_factory=list, repr=False)

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        row = self.rows[y]
        return row[3 * x], row[3 * x + 1], row[3 * x + 2]

    def _row(self, y: int) -> Counter[tuple[int, int, int]]:
        if not self._counts:  # each row's colours, counted once (Counter counts in C)
            self._counts.extend(
                Counter(zip(r[0::3], r[1::3], r[2::3], strict=True)) for r in self.rows
            )
        return self._counts[y]

    def count(self, colour: str, *, rows: range | None = None, tolerance: int = 12) -> int:
        """Pixels within ``tolerance`` of ``colour`` (``#rrggbb``) in ``rows`` (all: None)."""
        want = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        found = 0
        for y in rows or range(self.height):
            for (r, g, b), n in self._row(y).items():
                if (
                    abs(r - want[0]) <= tolerance
                    and abs(g - want[1]) <= tolerance
                    and abs(b - want[2]) <= tolerance
                ):
                    found += n
        return found

    def rows_with(self, colour: str, *, at_least: int = 1, tolerance: int = 12) -> list[int]:
        """The y of each row with at least ``at_least`` pixels of ``colour``."""
        return [
            y
            for y in range(self.height)
            if self.count(colour, rows=range(y, y + 1), tolerance=tolerance) >= at_least
        ]


def read_png(path: Path) -> Image:
    data = path.read_bytes()
    assert data[:8] == _SIGNATURE, "not a PNG"
    at = 8
    width = height = depth = kind = 0
    chunks = []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        name = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if name == b"IHDR":
            width, height, depth, kind = struct.unpack(">IIBB", body[:10])
        elif name == b"IDAT":
            chunks.append(body)
        elif name == b"IEND":
            break
    assert depth == 8 and kind in (2, 6), f"unsupported PNG: depth {depth}, colour type {kind}"
    channels = 3 if kind == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind_of_filter, line, previous, channels)
        previous = line
        if channels == 4:
            rgb = bytearray(width * 3)
            rgb[0::3], rgb[1::3], rgb[2::3] = line[0::4], line[1::4], line[2::4]
            rows.append(bytes(rgb))
        else:
            rows.append(bytes(line))
    return Image(width, height, tuple(rows))


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            best = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            line[i] = (line[i] + best) & 0xFF
        else:
            raise AssertionError(f"unknown PNG filter {kind}")
