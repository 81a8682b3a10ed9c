"""Where a command talks to: a real environment, or the embedded sandbox.

``--env NAME`` picks an environment of the settings (or the one built from the environment
variables); ``--sandbox`` runs the sandbox in process, with its data and its state under
``.reconciler/sandbox/`` beside the series folder, apart from every real environment's state
and never committed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.client import ClientEvent, CouponClient
from reconciler.credentials import Credentials
from reconciler.settings import Environment, Settings
from reconciler.state import State, load_state, save_state, state_path

SANDBOX_ENVIRONMENT = "sandbox"
SANDBOX_URL = "http://127.0.0.1"


@dataclass(frozen=True)
class Target:
    environment: Environment
    state_file: Path
    sandbox_db: Path | None = None

    @property
    def name(self) -> str:
        return self.environment.name


def sandbox_home(directory: Path) -> Path:
    override = os.environ.get("RECONCILER_SANDBOX_DIR")
    if override:
        return Path(override)
    return directory.resolve().parent / ".reconciler" / "sandbox"


def resolve_target(
    *, directory: Path, settings: Settings, env: str | None, sandbox: bool
) -> Target:
    if sandbox:
        home = sandbox_home(directory)
        return Target(
            environment=Environment(
                name=SANDBOX_ENVIRONMENT,
                base_url=SANDBOX_URL,
                rate_limit_per_minute=60_000,
                batch_size=50,
                parallelism=8,
                timeout_seconds=10.0,
            ),
            state_file=home / "state.json",
            sandbox_db=home / "sandbox.db",
        )
    environment = settings.environment(env)
    return Target(environment=environment, state_file=state_path(directory, environment.name))


@asynccontextmanager
async def open_client(
    target: Target, *, on_event: Callable[[ClientEvent], None] | None = None
) -> AsyncIterator[CouponClient]:
    """A client for ``target``: the real API, or the sandbox in process.

    ``on_event`` hears the client's retries, waits and calls (the CLI's progress line, -v).
    """
    if target.sandbox_db is None:
        async with CouponClient.from_environment(target.environment, on_event=on_event) as client:
            yield client
        return
    from reconciler.sandbox.app import create_app
    from reconciler.sandbox.transport import inprocess_transport

    target.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
    credentials = Credentials.sandbox()
    app = create_app(db_path=target.sandbox_db, credentials=credentials, seed=True)
    env = target.environment
    async with CouponClient(
        base_url=SANDBOX_URL,
        credentials=credentials,
        transport=inprocess_transport(app),
        rate_limit_per_minute=env.rate_limit_per_minute,
        batch_size=env.batch_size,
        concurrency=env.parallelism,
        timeout_seconds=env.timeout_seconds,
        on_event=on_event,
    ) as client:
        yield client


async def bootstrap_sandbox_state(
    *, target: Target, client: CouponClient, discount_codes: dict[str, str]
) -> State:
    """The sandbox's state; on first use, adopt the seeded series the files describe.

    So that a first ``plan --sandbox`` shows updates and unchanged series as well as creates,
    a seeded series (the docs' examples) whose discountCode a file declares is recorded under
    that file's key. Real environments never do this: their ids come from apply and import.
    """
    state = load_state(target.state_file, environment=target.name)
    if target.sandbox_db is None or target.state_file.exists():
        return state
    by_code = {code: key for key, code in discount_codes.items() if code}
    for series in await client.list_series():
        key = by_code.get(str(series.get("discountCode", "")))
        sid = series.get("id")
        if key and isinstance(sid, int) and key not in state.ids:
            state = state.with_id(key, sid)
    save_state(target.state_file, state)
    return state
