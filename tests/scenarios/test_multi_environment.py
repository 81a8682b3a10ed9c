"""One folder, two orgs: references by key and per-environment values, end to end.

Two sandboxes served over loopback HTTP stand for a testing and a production org. The
production org holds series the testing org does not, so the same key gets a different id
in each; a reference by key must land as each org's own id.
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

from .conftest import SETTLE_SECONDS, series_text

SETTINGS = """\
defaults:
  smsTemplate: "Hi {{{{first_name}}}}, your code is {{{{voucher}}}}"
environments:
  testing:
    base_url: {testing}
    auth: basic
    rate_limit_per_minute: 60000
    parallelism: 4
    timeout_seconds: 5
    create_settle_seconds: {settle}
  production:
    base_url: {production}
    auth: basic
    rate_limit_per_minute: 60000
    parallelism: 4
    timeout_seconds: 5
    create_settle_seconds: {settle}
    defaults:
      redeemAtStore: [900, 901]
"""

ENVIRONMENTS = ("testing", "production")


@dataclass
class Orgs:
    root: Path
    series: Path
    sandboxes: dict[str, Sandbox]

    def write(self, key: str, text: str) -> None:
        path = self.series / f"{key}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def cli(self, *args: str) -> Result:
        old = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(main, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)

    def apply(self, env: str) -> Result:
        result = self.cli("apply", "--env", env, "--auto-approve")
        assert result.exit_code == 0, result.output
        assert "Converged" in result.output, result.output
        return result

    def ids(self, env: str) -> dict[str, int]:
        path = self.series / ".state" / f"{env}.json"
        if not path.exists():
            return {}
        ids: dict[str, int] = json.loads(path.read_text())["ids"]
        return ids

    def live(self, env: str, key: str) -> dict[str, Any]:
        found = self.sandboxes[env].get_series(self.ids(env)[key])
        assert found is not None
        return found

    def empty_plan(self, env: str) -> None:
        result = self.cli("plan", "--env", env, "--detailed-exitcode")
        assert result.exit_code == 0, result.output


@pytest.fixture
def orgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Orgs]:
    monkeypatch.setenv("CAPILLARY_USERNAME", SANDBOX_USERNAME)
    monkeypatch.setenv("CAPILLARY_PASSWORD", SANDBOX_PASSWORD)
    for name in ("CAPILLARY_OAUTH_KEY", "CAPILLARY_OAUTH_SECRET", "CAPILLARY_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    apps = {
        env: create_app(
            db_path=tmp_path / f"{env}.db",
            credentials=Credentials.sandbox(),
            faults=Faults(random_seed=1),
            seed=False,
        )
        for env in ENVIRONMENTS
    }
    # Production has a history: its ids are not testing's.
    apps["production"].state.sandbox.preload(
        [{**_old(n), "discountCode": f"OLD{n}", "description": f"old {n}"} for n in range(7)]
    )
    with running_server(apps["testing"]) as testing, running_server(apps["production"]) as prod:
        series = tmp_path / "series"
        series.mkdir()
        (series / "reconciler.yaml").write_text(
            SETTINGS.format(testing=testing, production=prod, settle=SETTLE_SECONDS),
            encoding="utf-8",
        )
        yield Orgs(
            root=tmp_path,
            series=series,
            sandboxes={env: app.state.sandbox for env, app in apps.items()},
        )
    for app in apps.values():
        app.state.sandbox.close()


def _old(n: int) -> dict[str, Any]:
    return {
        "discountType": "ABS",
        "discountValue": 10 + n,
        "anyUser": True,
        "smsTemplate": "x",
        "clientHandlingType": "DISC_CODE",
        "expiryStrategyType": "SERIES_EXPIRY",
        "validTillDate": "2030-01-01T00:00:00Z",
    }


def _ids_in(live: dict[str, Any], name: str = "mutualExclusiveSeriesIds") -> list[int]:
    return sorted(json.loads(live[name]))


def test_references_by_key_land_as_each_orgs_own_ids_and_plan_empty(orgs: Orgs) -> None:
    orgs.write("promo/base", series_text("Base", "BASE1"))
    orgs.write(
        "promo/second",
        series_text(
            "Second", "SECOND1", extra="mutualExclusiveSeriesIds:\n  - series: promo/base\n"
        ),
    )
    orgs.write(
        "promo/third",
        series_text(
            "Third",
            "THIRD1",
            extra=("mutualExclusiveSeriesIds:\n  - series: promo/base\n  - series: promo/second\n"),
        ),
    )
    plan = orgs.cli("plan", "--env", "testing")
    assert plan.exit_code == 0, plan.output
    # The key and, for a series made by the same apply, how its id is filled in.
    assert "promo/base is created by this apply first" in plan.output

    for env in ENVIRONMENTS:
        orgs.apply(env)
    testing, production = orgs.ids("testing"), orgs.ids("production")
    assert set(testing) == set(production) == {"promo/base", "promo/second", "promo/third"}
    assert not set(testing.values()) & set(production.values())
    for env, ids in (("testing", testing), ("production", production)):
        assert _ids_in(orgs.live(env, "promo/second")) == [ids["promo/base"]]
        assert _ids_in(orgs.live(env, "promo/third")) == sorted(
            [ids["promo/base"], ids["promo/second"]]
        )
        orgs.empty_plan(env)
    shown = orgs.cli("plan", "--env", "production", "--format", "json")
    third = next(s for s in json.loads(shown.output)["series"] if s["key"] == "promo/third")
    assert (
        f"mutualExclusiveSeriesIds: promo/base is id {production['promo/base']}" in third["notes"]
    )


def test_a_new_series_naming_another_new_one_is_created_after_it_and_converges(
    orgs: Orgs,
) -> None:
    orgs.write("promo/base", series_text("Base", "BASE1"))
    for env in ENVIRONMENTS:
        orgs.apply(env)
    # One change: a new series, and another new one naming it (listed first by key order).
    orgs.write(
        "promo/a-late",
        series_text(
            "Late", "LATE1", extra="mutualExclusiveSeriesIds:\n  - series: promo/z-early\n"
        ),
    )
    orgs.write("promo/z-early", series_text("Early", "EARLY1"))
    for env in ENVIRONMENTS:
        result = orgs.apply(env)
        assert "Applied: 2 done, 0 skipped, 0 failed" in result.output, result.output
        ids = orgs.ids(env)
        assert _ids_in(orgs.live(env, "promo/a-late")) == [ids["promo/z-early"]]
        orgs.empty_plan(env)


def test_a_per_environment_store_list_lands_only_in_its_org(orgs: Orgs) -> None:
    orgs.write(
        "promo/stores",
        series_text(
            "Stores",
            "STORES1",
            extra=(
                "storeIdsJson: [101, 102]\n"
                "reconciler:\n"
                "  environments:\n"
                "    production:\n"
                "      storeIdsJson: [201, 202, 203]\n"
            ),
        ),
    )
    for env in ENVIRONMENTS:
        orgs.apply(env)
    assert _ids_in(orgs.live("testing", "promo/stores"), "storeIdsJson") == [101, 102]
    assert _ids_in(orgs.live("production", "promo/stores"), "storeIdsJson") == [201, 202, 203]
    # The settings' production defaults land in production only.
    assert _ids_in(orgs.live("production", "promo/stores"), "redeemAtStore") == [900, 901]
    assert _ids_in(orgs.live("testing", "promo/stores"), "redeemAtStore") == [-1]
    for env in ENVIRONMENTS:
        orgs.empty_plan(env)


def test_a_testing_only_series_is_never_planned_for_production(orgs: Orgs) -> None:
    orgs.write("promo/base", series_text("Base", "BASE1"))
    orgs.write(
        "promo/trial",
        series_text("Trial", "TRIAL1", extra="reconciler:\n  only: [testing]\n"),
    )
    plan = orgs.cli("plan", "--env", "production", "--format", "json")
    assert plan.exit_code == 0, plan.output
    assert [s["key"] for s in json.loads(plan.output)["series"]] == ["promo/base"]
    for env in ENVIRONMENTS:
        orgs.apply(env)
    assert set(orgs.ids("testing")) == {"promo/base", "promo/trial"}
    assert set(orgs.ids("production")) == {"promo/base"}
    codes = sorted(str(s["discountCode"]) for s in orgs.sandboxes["production"].all_series())
    assert "TRIAL1" not in codes
    # Not an orphan either.
    again = orgs.cli("plan", "--env", "production")
    assert "trial" not in again.output and again.exit_code == 0
    refused = orgs.cli("plan", "--env", "production", "--target", "promo/trial")
    assert refused.exit_code == 1 and "not in environment 'production'" in refused.output


def test_a_reference_cycle_and_an_unknown_key_are_validation_errors(orgs: Orgs) -> None:
    orgs.write(
        "promo/a", series_text("A", "A1", extra="mutualExclusiveSeriesIds:\n  - series: promo/b\n")
    )
    orgs.write(
        "promo/b", series_text("B", "B1", extra="mutualExclusiveSeriesIds:\n  - series: promo/a\n")
    )
    orgs.write(
        "promo/c",
        series_text("C", "C1", extra="mutualExclusiveSeriesIds:\n  - series: promo/nothing\n"),
    )
    result = orgs.cli("validate", "--dir", "series")
    assert result.exit_code == 1
    out = result.output
    assert "series/promo/a.yaml:10:" in out and "promo/a → promo/b → promo/a" in out
    assert "series/promo/b.yaml:10:" in out
    assert "series/promo/c.yaml:10:" in out and "'promo/nothing'" in out
    for env in ENVIRONMENTS:
        plan = orgs.cli("plan", "--env", env)
        assert plan.exit_code == 1
        assert "promo/nothing" in plan.output
    for sandbox in orgs.sandboxes.values():
        assert not {"A1", "B1", "C1"} & {str(s["discountCode"]) for s in sandbox.all_series()}


def test_a_problem_of_one_environment_names_it(orgs: Orgs) -> None:
    orgs.write(
        "promo/x",
        series_text(
            "X",
            "X1",
            extra="reconciler:\n  environments:\n    production:\n      discountValue: -5\n"
            "    prodution:\n      maxCreate: 10\n",
        ),
    )
    result = orgs.cli("validate", "--dir", "series")
    assert result.exit_code == 1
    assert "no environment 'prodution' in the settings: did you mean production?" in result.output
    assert "discountValue" in result.output


def test_import_names_the_series_the_folder_manages_by_key(orgs: Orgs) -> None:
    orgs.write("promo/base", series_text("Base", "BASE1"))
    orgs.apply("testing")
    base = orgs.ids("testing")["promo/base"]
    made = orgs.sandboxes["testing"].create(
        {
            **_old(1),
            "description": "Made by hand",
            "discountCode": "HAND1",
            "mutualExclusiveSeriesIds": f"[{base}]",
        }
    )
    result = orgs.cli("import", str(made["id"]), "--env", "testing")
    assert result.exit_code == 0, result.output
    text = (orgs.series / "imported" / "made-by-hand.yaml").read_text()
    assert "mutualExclusiveSeriesIds:\n- series: promo/base\n" in text
    orgs.empty_plan("testing")
