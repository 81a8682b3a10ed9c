"""Declarative config as code for the coupon series of a Capillary CRM org."""

# The one place the version is written: pyproject.toml reads it from here (setuptools'
# ``attr:``), so the package needs no ``importlib.metadata`` look-up at start-up, and a
# source tree that was never installed reports the same version as the wheel.
__version__ = "0.1.0"

__all__ = ["__version__"]
