"""What a command loads costs every run: nothing it does not need, nothing looked up twice."""

from __future__ import annotations

import asyncio
import importlib.abc
import subprocess
import sys
from pathlib import Path
from typing import Any


class _Counting(importlib.abc.MetaPathFinder):
    def __init__(self, name: str) -> None:
        self.name = name
        self.lookups = 0

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == self.name:
            self.lookups += 1


def test_httpcore_finds_sniffio_once_not_at_every_lock() -> None:
    # httpcore imports sniffio at every lock it takes; when sniffio is missing (anyio 4.5+ no
    # longer brings it) each of those imports searches sys.path and fails: ~40 µs, several a
    # call. The dependency on sniffio makes it one import, then a dict lookup.
    from httpcore._synchronization import current_async_library

    async def twice() -> tuple[str, str]:
        return current_async_library(), current_async_library()

    asyncio.run(twice())  # the first import, if any
    finder = _Counting("sniffio")
    sys.meta_path.insert(0, finder)
    try:
        assert asyncio.run(twice()) == ("asyncio", "asyncio")
    finally:
        sys.meta_path.remove(finder)
    assert finder.lookups == 0


VALID = """\
description: One
discountCode: ONE
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: 10
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: PERC
smsTemplate: "Your code is {{voucher}}"
"""


def test_validate_imports_no_http_client_server_or_pydantic(tmp_path: Path) -> None:
    # `validate` runs on every commit (pre-commit) and first in every CI job: it reads files
    # only, so nothing of the HTTP client, the sandbox or pydantic (90 ms alone) is loaded.
    series = tmp_path / "series"
    series.mkdir()
    (series / "one.yaml").write_text(VALID, encoding="utf-8")
    (series / "reconciler.yaml").write_text(
        "environments:\n  prod:\n    base_url: https://eu.api.capillarytech.com\n"
        "    batch_size: 50\n",
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        "from reconciler.cli import main\n"
        "try:\n"
        f"    main(['validate', '--dir', {str(series)!r}])\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "heavy = ('pydantic', 'httpx', 'httpcore', 'anyio', 'asyncio', 'starlette', 'uvicorn',\n"
        "         'sqlite3', 'reconciler.client', 'reconciler.sandbox', 'reconciler.engine')\n"
        "print(code, sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
