"""Where a command talks to, decided once: the environment, its state and lock, its client.

A command opens one ``Workspace`` from ``--dir`` and ``--env | --sandbox`` (and, in CI, the
trusted settings). Everything that depends on "which org is this" is answered here and
nowhere else:

- the environment (from the settings file, or the sandbox's own);
- where the credentials go: ``--base-url``, else ``{prefix}_BASE_URL``, else the settings
  file's ``base_url``; the variable and the file naming different addresses is refused
  (``credentials.choose_base_url``, the one rule, also behind the lock's identity);
- the trust boundary: with trusted settings (the default branch's copy), the settings that
  decide where credentials go (``base_url``, ``auth``, ``env_prefix``) must not differ, so a
  pull request cannot send the secrets to a host of its choosing;
- the state file, its journal, and the environment's lock (keyed on the org, not the path);
- the sandbox home (one rule for ``--sandbox`` and every ``sandbox`` command);
- the only place a client is built (the in-process sandbox imported only when asked);
- the flags that reach this environment, for the commands a message suggests.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from reconciler.client.credentials import BaseUrlChoice, Credentials, choose_base_url
from reconciler.engine.lock import environment_lock
from reconciler.engine.state import StateStore, load_state, open_store, state_path
from reconciler.errors import ConfigError
from reconciler.model.settings import (
    CONNECTION_SETTINGS,
    SANDBOX_ENVIRONMENT,
    Environment,
    Settings,
)

if TYPE_CHECKING:
    from reconciler.client import ClientEvent, CouponClient
    from reconciler.engine.state import State

SANDBOX_URL = "http://127.0.0.1"
SANDBOX_DIR_VARIABLE = "RECONCILER_SANDBOX_DIR"
TRUSTED_SETTINGS_VARIABLE = "RECONCILER_TRUSTED_SETTINGS"
DEFAULT_DIRECTORY = Path("series")


def sandbox_home(directory: Path) -> Path:
    """The embedded sandbox's folder: ``$RECONCILER_SANDBOX_DIR``, else beside the series."""
    override = os.environ.get(SANDBOX_DIR_VARIABLE)
    if override:
        return Path(override)
    return directory.resolve().parent / ".reconciler" / "sandbox"


def sandbox_environment() -> Environment:
    return Environment(
        name=SANDBOX_ENVIRONMENT,
        base_url=SANDBOX_URL,
        rate_limit_per_minute=60_000,
        batch_size=50,
        parallelism=8,
        timeout_seconds=10.0,
        create_settle_seconds=0.0,  # in process: a create that got no answer never ran
    )


@dataclass(frozen=True)
class Workspace:
    directory: Path
    environment: Environment
    sandbox: Path | None = None  # the sandbox home, when the command runs against it
    named: bool = False  # --env was given (so hints repeat it)
    environ: Mapping[str, str] | None = None
    base_url_flag: str | None = None  # --base-url, when given
    settings_file: str | None = None  # where the settings were read, for messages

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        *,
        directory: Path,
        settings: Settings,
        env: str | None = None,
        sandbox: bool = False,
        trusted_settings: Path | None = None,
        environ: Mapping[str, str] | None = None,
        base_url: str | None = None,
    ) -> Workspace:
        if env and sandbox:
            raise ConfigError("--env and --sandbox exclude each other: choose one")
        if sandbox and base_url:
            raise ConfigError(
                "--base-url and --sandbox exclude each other: the embedded sandbox has no URL"
            )
        if sandbox:
            return cls(
                directory=directory,
                environment=sandbox_environment(),
                sandbox=sandbox_home(directory),
                environ=environ,
            )
        environment = settings.environment(env)
        trusted = trusted_settings or _trusted_from_variable(environ)
        if trusted is not None:
            check_trusted(environment=environment, trusted_file=trusted)
        return cls(
            directory=directory,
            environment=environment,
            named=bool(env),
            environ=environ,
            base_url_flag=base_url,
            settings_file=settings.file,
        )

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    # ------------------------------------------------------------------ hints

    @property
    def flags(self) -> str:
        """The options that reach this environment, for commands a message suggests."""
        parts = []
        if self.directory != DEFAULT_DIRECTORY:
            parts.append(f"--dir {self.directory}")
        if self.is_sandbox:
            parts.append("--sandbox")
        elif self.named:
            parts.append(f"--env {self.name}")
        return " ".join(parts)

    def command(self, words: str) -> str:
        """``reconciler WORDS`` with the flags that reach this environment."""
        flags = self.flags
        return f"reconciler {words}" + (f" {flags}" if flags else "")

    # ------------------------------------------------------------------ state and lock

    @property
    def state_file(self) -> Path:
        if self.sandbox is not None:
            return self.sandbox / "state.json"
        return state_path(self.directory, self.name)

    @property
    def sandbox_db(self) -> Path | None:
        return None if self.sandbox is None else self.sandbox / "sandbox.db"

    def load_state(self) -> State:
        return load_state(
            self.state_file, environment=self.name, rebuild_hint=self.command("state rebuild")
        )

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """The lock of this environment: one writer of its series and state at a time."""
        return environment_lock(identity=self.identity, describe=f"environment {self.name!r}")

    @contextlib.contextmanager
    def writing(self) -> Iterator[StateStore]:
        """The lock of this environment, and its state store, for a command that writes."""
        with (
            self.lock(),
            open_store(
                path=self.state_file,
                environment=self.name,
                rebuild_hint=self.command("state rebuild"),
            ) as store,
        ):
            yield store

    def base_url(self) -> BaseUrlChoice:
        """Where the credentials go, and from which source (``choose_base_url``)."""
        where = f"environment {self.name!r}'s base_url in the settings"
        if self.settings_file:
            where += f" ({self.settings_file})"
        return choose_base_url(
            flag=self.base_url_flag,
            configured=self.environment.base_url,
            configured_in=where,
            prefix=self.environment.env_prefix,
            environ=self._environ,
        )

    @property
    def identity(self) -> str:
        """What identifies the org (no secret): the API's URL and whom the credentials name."""
        if self.sandbox_db is not None:
            return f"sandbox|{self.sandbox_db.resolve()}"
        env = self._environ
        prefix = self.environment.env_prefix
        url = (self.base_url().url or "").rstrip("/")
        who = env.get(f"{prefix}_USERNAME") or env.get(f"{prefix}_OAUTH_KEY") or ""
        return f"{url.lower()}|{who}"

    @property
    def _environ(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    # ------------------------------------------------------------------ the client

    @asynccontextmanager
    async def client(
        self, *, on_event: Callable[[ClientEvent], None] | None = None
    ) -> AsyncIterator[CouponClient]:
        """The one place a client is built: the real API, or the sandbox in process."""
        from reconciler.client import CouponClient
        from reconciler.listening import current

        events = on_event or current()  # a command that routes none: the CLI's status line
        env = self.environment
        if self.sandbox_db is None:
            async with CouponClient(
                base_url=self.base_url().url,
                credentials=Credentials.from_env(prefix=env.env_prefix, environ=self._environ),
                auth=env.auth,
                rate_limit_per_minute=env.rate_limit_per_minute,
                batch_size=env.batch_size,
                concurrency=env.parallelism,
                timeout_seconds=env.timeout_seconds,
                on_event=events,
                env_prefix=env.env_prefix,
            ) as client:
                yield client
            return
        from reconciler.sandbox.app import create_app
        from reconciler.sandbox.transport import inprocess_transport

        self.sandbox_db.parent.mkdir(parents=True, exist_ok=True)
        credentials = Credentials.sandbox()
        app = create_app(db_path=self.sandbox_db, credentials=credentials, seed=True)
        async with CouponClient(
            base_url=SANDBOX_URL,
            credentials=credentials,
            transport=inprocess_transport(app),
            rate_limit_per_minute=env.rate_limit_per_minute,
            batch_size=env.batch_size,
            concurrency=env.parallelism,
            timeout_seconds=env.timeout_seconds,
            on_event=events,
        ) as client:
            yield client

    @property
    def sandbox_is_new(self) -> bool:
        """True on the sandbox's first use (no state yet): the demo's one-time adoption."""
        return self.sandbox is not None and not self.state_file.exists()


def _trusted_from_variable(environ: Mapping[str, str] | None) -> Path | None:
    value = (os.environ if environ is None else environ).get(TRUSTED_SETTINGS_VARIABLE)
    return Path(value) if value else None


def check_trusted(*, environment: Environment, trusted_file: Path) -> None:
    """Refuse settings that send the credentials elsewhere than the trusted side says.

    ``trusted_file`` is the settings file as it is on the default branch (in CI); a file that
    does not exist means the default branch has none, so the defaults hold.
    """
    trusted = _trusted_connection(trusted_file, environment.name)
    moved = [
        name
        for name in CONNECTION_SETTINGS
        if getattr(environment, name) != trusted.get(name, getattr(Environment(name="x"), name))
    ]
    if moved:
        listed = ", ".join(moved)
        raise ConfigError(
            f"the settings of environment {environment.name!r} change {listed} compared with "
            f"the trusted settings ({trusted_file}): these decide where the credentials are "
            "sent, so they are taken only from the default branch. Nothing was sent; merge the "
            "settings change first (reviewed on its own), then plan again"
        )


def _trusted_connection(path: Path, name: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the trusted settings {path}: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ConfigError(f"the trusted settings {path} are not valid YAML") from None
    if data is None:
        return {}
    environments = data.get("environments") if isinstance(data, dict) else None
    if environments is None:
        return {}
    body = environments.get(name) if isinstance(environments, dict) else None
    if not isinstance(body, dict):
        if isinstance(environments, dict) and environments:
            raise ConfigError(
                f"environment {name!r} is not in the trusted settings ({path}): a new "
                "environment is added on the default branch first, reviewed on its own"
            )
        return {}
    return {k: body[k] for k in CONNECTION_SETTINGS if k in body}
