"""Every date spelling ``validate`` accepts reaches the server in the docs' one request form.

The sandbox runs with ``strict_dates``: a POST or PUT with any other spelling is a 400. The
tool creates series written with each spelling, updates them (a PUT resends the live dates,
which the server answers as ``...Z``), ends one with ``retire``, and imports them again.
"""

from __future__ import annotations

import pytest

from tests.scenarios.conftest import World, series_text

# As people write them in YAML (unquoted where YAML allows it).
SPELLINGS = [
    "2031-01-01 20:00:00-08:00",
    "2031-01-01T20:00:00Z",
    "2031-01-01T20:00:00z",
    "2031-01-01T20:00-08:00",
    "2031-01-01T20:00:00-08",
    "2031-01-01T20:00:00-0800",
    "2031-01-01T20:00:00.123456+05:30",
    "2031-01-01 20:00 +0545",
    "'2031-01-01T20:00:00+05:30'",
    "2031-01-01",
]


@pytest.fixture
def strict(world: World) -> World:
    world.sandbox.configure(strict_dates=True)
    return world


def _file(n: int, spelling: str, *, value: int = 100, extra: str = "") -> str:
    text = series_text(f"Strict {n}", f"STRICT{n}", value=value, extra=extra)
    text = text.replace("validTillDate: 2030-09-30T00:00:00Z", f"validTillDate: {spelling}")
    return text + f"redemptionValidFrom: {spelling.replace('2031', '2030')}\n"


def test_every_accepted_spelling_is_sent_in_the_documented_form(strict: World) -> None:
    for n, spelling in enumerate(SPELLINGS):
        strict.write(f"s/{n}", _file(n, spelling, extra=f"seriesCode: SC{n}\n"))
    validated = strict.cli("validate")
    assert validated.exit_code == 0, validated.output
    # Creates, then the PUT that sets each declared seriesCode.
    result = strict.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert strict.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
    # Updates: each PUT resends the live series, dates as the server answered them (Z).
    for n, spelling in enumerate(SPELLINGS):
        strict.write(f"s/{n}", _file(n, spelling, value=200, extra=f"seriesCode: SC{n}\n"))
    result = strict.cli("apply", "--env", "local", "--auto-approve", "--force")
    assert result.exit_code == 0, result.output
    plan = strict.cli("plan", "--env", "local", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert sorted(
        s["discountValue"]
        for s in strict.sandbox.all_series()
        if str(s["discountCode"]).startswith("STRICT")
    ) == [200] * len(SPELLINGS)


def test_retire_and_import_against_the_strict_sandbox(strict: World) -> None:
    strict.write("s/one", _file(1, "2031-01-01 20:00:00-08:00"))
    assert strict.cli("apply", "--env", "local", "--auto-approve").exit_code == 0
    sid = strict.state()["ids"]["s/one"]
    strict.write("s/one", _file(1, "2031-01-01 20:00:00-08:00") + "reconciler:\n  retire: true\n")
    result = strict.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 0, result.output
    live = strict.sandbox.get_series(sid)
    assert live is not None and live["validTillDate"] < "2031"
    # The import of the ended series (validTillDate now before redemptionValidFrom) writes a
    # file that validates and plans empty, and whose dates the strict server takes.
    strict.remove("s/one")
    assert strict.cli("state", "rm", "s/one", "--env", "local").exit_code == 0
    result = strict.cli("import", str(sid), "--env", "local", "--key", "s/again")
    assert result.exit_code == 0, result.output
    validated = strict.cli("validate")
    assert validated.exit_code == 0, validated.output
    assert "before redemptionValidFrom" in validated.output  # a warning, not an error
    assert strict.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
    path = strict.series / "s/again.yaml"
    path.write_text(path.read_text().replace("Strict 1", "Strict one"))
    result = strict.cli("apply", "--env", "local", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert strict.cli("plan", "--env", "local", "--detailed-exitcode").exit_code == 0
