"""The tool's settings: ``series/reconciler.yaml`` and the environment variables.

The settings file is optional. It holds ``defaults`` (field values merged under every series,
the series file winning), global ``ignore`` rules and the ``environments`` (each may have its
own ``defaults``, merged over the global ones in that environment). With no file, one
environment named ``default`` is read from ``CAPILLARY_BASE_URL`` and the credential variables.
Secrets never live in the file: only the prefix of the variables that hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.errors import ConfigError
from reconciler.model.desired import IgnoreRule

SETTINGS_FILE = "reconciler.yaml"
DEFAULT_ENVIRONMENT = "default"
# The embedded sandbox's environment: always known, whatever the settings name.
SANDBOX_ENVIRONMENT = "sandbox"

# The prefix of the variables that hold an environment's credentials (CAPILLARY_USERNAME...).
DEFAULT_PREFIX = "CAPILLARY"
# What the sandbox accepts, and the client sends to it, when the variables are unset.
SANDBOX_USERNAME = "sandbox.till"
SANDBOX_PASSWORD = "sandbox-password"
SANDBOX_OAUTH_KEY = "sandbox-key"
SANDBOX_OAUTH_SECRET = "sandbox-secret"

# Ids one read by id asks for. The docs give no largest batch ("batch support: yes"); 100 is
# what the stand-in's limit was measured at, and a larger one is learned down from the
# server's refusal (docs/assumptions.md, "Reads by id"; benchmarks/bench_batch.py).
DEFAULT_BATCH_SIZE = 100

AuthMethod = Literal["basic", "oauth"]
# The settings that decide where credentials are sent: only the trusted side may set them.
CONNECTION_SETTINGS = ("base_url", "auth", "env_prefix")


@dataclass(frozen=True)
class Environment:
    """Where one org's API is and how to talk to it (no secret: see ``credentials``)."""

    name: str
    base_url: str | None = None
    # None: OAuth when its variables are set, else Basic.
    auth: AuthMethod | None = None
    env_prefix: str = DEFAULT_PREFIX
    rate_limit_per_minute: int = 100
    batch_size: int = DEFAULT_BATCH_SIZE
    parallelism: int = 4
    timeout_seconds: float = 30.0
    # Safety rail: refuse an apply that updates more than this share of the existing series
    # (only when there are at least ``share_min_series`` of them).
    max_update_share: float = 0.3
    share_min_series: int = 10
    # How long a create whose outcome is unknown may still land in the CRM: until then it is
    # never sent again (a server can act on a POST long after the caller gave up).
    create_settle_seconds: float = 600.0


@dataclass(frozen=True)
class Settings:
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # The line of each default in the settings file, for problems about them.
    default_lines: Mapping[str, int] = field(default_factory=dict)
    ignore: tuple[IgnoreRule, ...] = ()
    environments: Mapping[str, Environment] = field(default_factory=dict)
    file: str | None = None
    # Field values merged over ``defaults`` in one environment (``environments.NAME.defaults``).
    environment_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def defaults_in(self, environment: str) -> dict[str, Any]:
        """The defaults every series gets in ``environment``."""
        return {**self.defaults, **self.environment_defaults.get(environment, {})}

    def environment(self, name: str | None) -> Environment:
        """The environment called ``name``; with no name, the only one there is."""
        if name is None:
            if len(self.environments) == 1:
                return next(iter(self.environments.values()))
            if not self.environments:
                return Environment(name=DEFAULT_ENVIRONMENT)
            names = ", ".join(sorted(self.environments))
            raise ConfigError(f"several environments are set up ({names}): choose one with --env")
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.environments)) or "none"
            raise ConfigError(f"no environment {name!r} in the settings (known: {known})") from None
