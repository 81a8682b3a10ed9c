"""Fixtures for the workflow simulations: a fake GitHub (see ``harness``) and two sandbox orgs,
``testing`` and ``production``, served over loopback HTTP."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME, Credentials
from reconciler.sandbox import Faults, Sandbox, create_app, running_server
from tests.workflows.harness import ROOT, World

ENVIRONMENTS = ("testing", "production")
# The tool as a series repository pins it (the harness runs this repository's action.yml).
PINNED_TOOL = "acme/reconciler@" + "0123456789abcdef" * 2 + "01234567"

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


def series_text(description: str, code: str, value: int = 100) -> str:
    return SERIES.format(description=description, code=code, value=value)


@dataclass
class GitHub:
    world: World
    orgs: dict[str, Sandbox]
    urls: dict[str, str]

    def by_code(self, env: str) -> dict[str, dict[str, Any]]:
        """The live series of ``env`` by discountCode (each code must be there once)."""
        found: dict[str, dict[str, Any]] = {}
        for s in self.orgs[env].all_series():
            code = str(s["discountCode"])
            assert code not in found, f"{code} exists twice in {env}"
            found[code] = s
        return found


@contextmanager
def two_orgs(tmp_path: Path) -> Iterator[GitHub]:
    """A fake GitHub with an empty origin, and the two sandbox orgs behind its secrets."""
    world = World(tmp_path)
    orgs: dict[str, Sandbox] = {}
    urls: dict[str, str] = {}
    with (
        running_server(_app(tmp_path / "testing.db", orgs, "testing")) as testing_url,
        running_server(_app(tmp_path / "production.db", orgs, "production")) as prod_url,
    ):
        urls = {"testing": testing_url, "production": prod_url}
        for env, url in urls.items():
            world.repo_secrets.update(credentials(env, url))  # what the plans read
            world.env_secrets[env] = credentials(env, url)  # what the applies read
        try:
            yield GitHub(world=world, orgs=orgs, urls=urls)
        finally:
            for sandbox in orgs.values():
                sandbox.close()


def credentials(env: str, url: str) -> dict[str, str]:
    prefix = f"CAPILLARY_{env.upper()}_"
    return {
        prefix + "BASE_URL": url,
        prefix + "USERNAME": SANDBOX_USERNAME,
        prefix + "PASSWORD": SANDBOX_PASSWORD,
    }


@pytest.fixture
def empty_github(tmp_path: Path) -> Iterator[GitHub]:
    with two_orgs(tmp_path) as github:
        yield github


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHub]:
    with two_orgs(tmp_path) as github:
        world = github.world
        # The series repository: this repository's own settings file and workflows (pinned
        # to the tool as docs/ci.md step 5 says), no series yet.
        (world.dev / "series").mkdir()
        shutil.copy(ROOT / "series" / "reconciler.yaml", world.dev / "series")
        world.write("README.md", "coupon series\n")
        world.write(".gitignore", "series/.state/\n")
        install_workflows(world.dev)
        world.commit("An empty series repository")
        world.git("push", "-q", "origin", "HEAD:refs/heads/main")
        yield github


def install_workflows(repo: Path, action: str = PINNED_TOOL) -> None:
    """plan.yml, apply.yml and drift.yml in ``repo``, with ``uses: ./`` replaced by the tool
    pinned by commit (docs/ci.md, step 5)."""
    (repo / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert "uses: ./" in text
        text = re.sub(r"uses: \./(?=\s)", f"uses: {action} # v0.2.0", text)
        (repo / ".github" / "workflows" / name).write_text(text, encoding="utf-8")


def _app(db: Path, orgs: dict[str, Sandbox], env: str) -> Any:
    app = create_app(
        db_path=db, credentials=Credentials.sandbox(), faults=Faults(random_seed=1), seed=False
    )
    orgs[env] = app.state.sandbox
    return app
