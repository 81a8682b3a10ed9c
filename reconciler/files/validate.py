"""The rules a series file must meet, checked offline, every problem at once.

Three levels, each returning problems rather than raising, so one run reports everything:

- ``check_field``: one API field as written (name known and writable, type, enum, the
  friendly forms, what the server would store), turned into the API's form
  (``reconciler.files.field_checks``, with the structured values in ``shape_checks``);
- ``check_series``: the rules between fields of one series, after the settings' defaults are
  merged under it (required on create, the catalogue's rules, dates) and ``check_across``:
  the rules between series files (``reconciler.files.series_checks``);
- ``check_options``: the reserved ``reconciler:`` key (``reconciler.files.options``).

The rules come from the vendor's pages and from what the request/response pairs in the
vendor's pages show the server doing (``canonical.stored_value`` models it): a value the
server would change in a way that matters is an error, one it changes harmlessly a warning,
and a value the CRM holds and no page refuses a warning too, so every series ``import``
writes validates. Every message says what to write instead, for a marketer as much as an
engineer. This module is the one door the loader and the schema use.
"""

from __future__ import annotations

from reconciler.files.field_checks import check_field, unknown_field_message
from reconciler.files.options import (
    IGNORE_KEYS,
    OPTION_KEYS,
    RESERVED_KEY,
    check_ignore_rules,
    check_options,
)
from reconciler.files.series_checks import UNIQUE_FIELDS, check_across, check_series
from reconciler.files.source import Checked, Source, suggest

__all__ = [
    "IGNORE_KEYS",
    "OPTION_KEYS",
    "RESERVED_KEY",
    "UNIQUE_FIELDS",
    "Checked",
    "Source",
    "check_across",
    "check_field",
    "check_ignore_rules",
    "check_options",
    "check_series",
    "suggest",
    "unknown_field_message",
]
