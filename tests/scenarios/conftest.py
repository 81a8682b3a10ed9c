"""End-to-end scenarios: the CLI against the sandbox served over loopback HTTP.

Each test gets a fresh folder with a ``series/`` directory whose settings name one
environment, ``local``, pointing at a sandbox on a free loopback port, and the credential
variables set to what that sandbox accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME, Credentials
from reconciler.sandbox import Faults, Sandbox, create_app, running_server
from tests import golden

GOLDEN = Path(__file__).parent / "golden"

# How long the scenarios let an unanswered create settle (the default is minutes).
SETTLE_SECONDS = 2

SETTINGS = """\
defaults:
  smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
environments:
  local:
    base_url: {url}
    auth: basic
    rate_limit_per_minute: 60000
    batch_size: 5
    parallelism: 4
    timeout_seconds: 2
    create_settle_seconds: {settle}
"""

SERIES = """\
description: {description}
discountCode: {code}
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: {value}
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: ABS
"""


def series_body(description: str, code: str, **extra: Any) -> dict[str, Any]:
    """A minimal valid API body, for series made directly on a sandbox (outside the tool)."""
    return {
        "description": description,
        "discountCode": code,
        "discountType": "ABS",
        "discountValue": 5,
        "anyUser": True,
        "smsTemplate": "x",
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "validTillDate": "2030-01-01T00:00:00Z",
        **extra,
    }


def series_text(description: str, code: str, value: int = 100, extra: str = "") -> str:
    return SERIES.format(description=description, code=code, value=value) + extra


@dataclass
class World:
    root: Path
    series: Path
    sandbox: Sandbox
    url: str

    def write(self, key: str, text: str) -> Path:
        path = self.series / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def remove(self, key: str) -> None:
        (self.series / f"{key}.yaml").unlink()

    def cli(self, *args: str, input: str | None = None) -> Result:
        old = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)

    def state(self) -> dict[str, Any]:
        path = self.series / ".state" / "local.json"
        if not path.exists():
            return {"ids": {}, "intents": {}}
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def codes(self) -> list[str]:
        return sorted(str(s.get("discountCode")) for s in self.sandbox.all_series())


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("CAPILLARY_USERNAME", SANDBOX_USERNAME)
    monkeypatch.setenv("CAPILLARY_PASSWORD", SANDBOX_PASSWORD)
    for name in ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "CAPILLARY_BASE_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(
        db_path=tmp_path / "sandbox.db",
        credentials=Credentials.sandbox(),
        faults=Faults(hang_seconds=4.0, random_seed=1),
        seed=True,
    )
    with running_server(app) as url:
        series = tmp_path / "series"
        series.mkdir()
        (series / "reconciler.yaml").write_text(
            SETTINGS.format(url=url, settle=SETTLE_SECONDS), encoding="utf-8"
        )
        yield World(root=tmp_path, series=series, sandbox=app.state.sandbox, url=url)
    app.state.sandbox.close()


@dataclass
class Guarded(World):
    """A ``World`` whose sandbox sits behind a counting ``Door`` (``served.Door``): its
    ``door.writes`` counts every POST and PUT that reached the server."""

    door: Any = None


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guarded]:
    from tests.scenarios.served import Door

    monkeypatch.setenv("CAPILLARY_USERNAME", SANDBOX_USERNAME)
    monkeypatch.setenv("CAPILLARY_PASSWORD", SANDBOX_PASSWORD)
    for name in ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "CAPILLARY_BASE_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(
        db_path=tmp_path / "sandbox.db",
        credentials=Credentials.sandbox(),
        faults=Faults(hang_seconds=4.0, random_seed=1),
        seed=True,
    )
    door = Door(app, app.state.sandbox)
    with running_server(door) as url:
        series = tmp_path / "series"
        series.mkdir()
        (series / "reconciler.yaml").write_text(
            SETTINGS.format(url=url, settle=SETTLE_SECONDS), encoding="utf-8"
        )
        yield Guarded(root=tmp_path, series=series, sandbox=app.state.sandbox, url=url, door=door)
    app.state.sandbox.close()


def check_golden(name: str, text: str) -> None:
    """Compare with ``golden/NAME`` (the suite's one check, ``tests/golden.py``)."""
    golden.check_golden(GOLDEN, name, golden.scrub(text))
