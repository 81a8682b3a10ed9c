"""Fixtures of the sandbox tests: an app on a temporary database and clients to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from reconciler.sandbox import Faults, Sandbox, create_app, running_server

from .helpers import CREDS, Api


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def app(db_path: Path) -> Iterator[Starlette]:
    application = create_app(
        db_path=db_path, credentials=CREDS, faults=Faults(hang_seconds=0.5, random_seed=7)
    )
    yield application
    application.state.sandbox.close()


@pytest.fixture
def sandbox(app: Starlette) -> Sandbox:
    control: Sandbox = app.state.sandbox
    return control


@pytest.fixture
def api(app: Starlette) -> Api:
    return Api(app)


@pytest.fixture
def base_url(app: Starlette) -> Iterator[str]:
    with running_server(app) as url:
        yield url
