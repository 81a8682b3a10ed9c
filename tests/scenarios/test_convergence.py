"""Convergence: right after an import or an apply, a plan is empty.

docs/design.md, decision 10: both sides of a diff go through one canonical form so that a plan
never shows a change an apply cannot remove. These scenarios drive the CLI against the
sandbox over loopback HTTP:

- every series of the docs (the two seeded answers, and the series the sandbox makes from
  every request body of the docs' pages) imports into a file whose plan is empty;
- random valid series (time zones, friendly forms, JSON carried in strings, sets in random
  order, defaults) plan empty after an apply, and after a direct create with the same body;
- drift made behind the tool's back shows exactly the field changed, and an apply removes it;
- settings defaults converge, for applied and for imported series.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
import string
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reconciler.client.credentials import SANDBOX_PASSWORD, SANDBOX_USERNAME
from reconciler.files.loader import load_series
from reconciler.model.catalogue import BY_NAME, INT32_MAX, INT32_MIN, Kind, writable_fields
from tests.sandbox import docs_pairs
from tests.scenarios.conftest import SETTINGS, SETTLE_SECONDS, World, series_text

SEEDED = (520591, 698948)

# The request bodies of the docs' pages (literal copies in tests/sandbox/docs_pairs.py, which
# test_docs_pairs checks against the pages). The update page's body is sent as a create: the
# sandbox takes it as it is (seriesCode is ignored on create, the server-owned fields too).
DOCS_BODIES: dict[str, dict[str, Any]] = {
    "update-page-request": docs_pairs.UPDATE_REQUEST["CouponSeriesV2"],
    "create-page-request": docs_pairs.CREATE_MINIMAL_REQUEST["CouponSeriesV2"],
    "create-page-request-with-limit": docs_pairs.CREATE_REQUEST["CouponSeriesV2"],
}

# The only warnings an imported docs series may carry: the docs' dates are past, and the
# vendor deprecated some fields the docs' answers still carry (written with --all-fields, or
# when the live value differs from the default).
# A docs series made today whose validTillDate is past: the server derives its
# redemptionValidFrom from the creation day (gold_877510), so it also "ends before it starts".
EXPECTED_WARNINGS = ("is already past", "is deprecated by the vendor", "before redemptionValidFrom")


# --- helpers ---------------------------------------------------------------------------------


def plan(world: World, *extra: str) -> tuple[int, str]:
    result = world.cli("plan", "--env", "local", "--detailed-exitcode", *extra)
    return result.exit_code, result.output


def apply(world: World, *extra: str) -> tuple[int, str]:
    result = world.cli("apply", "--env", "local", "--auto-approve", *extra)
    return result.exit_code, result.output


def auth_header() -> dict[str, str]:
    digest = hashlib.md5(SANDBOX_PASSWORD.encode()).hexdigest()
    token = base64.b64encode(f"{SANDBOX_USERNAME}:{digest}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": "application/json"}


def post_series(world: World, body: dict[str, Any]) -> dict[str, Any]:
    """Create a series through the sandbox's HTTP API, as any other client of the CRM would."""
    response = httpx.post(
        f"{world.url}/v2/coupon/series", json={"CouponSeriesV2": body}, headers=auth_header()
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def create_docs_series(world: World, source: str) -> int:
    if source.startswith("seeded-"):
        return int(source.removeprefix("seeded-"))
    return int(post_series(world, copy.deepcopy(DOCS_BODIES[source]))["id"])


def warning_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": warning: " in line]


def new_folder(world: World, settings_extra: str = "") -> Path:
    """A fresh series folder in ``world.root``, its settings pointing at the world's sandbox."""
    folder = world.root / f"series-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "reconciler.yaml").write_text(
        SETTINGS.format(url=world.url, settle=SETTLE_SECONDS) + settings_extra, encoding="utf-8"
    )
    return folder


def cli_in(world: World, folder: Path, *args: str) -> tuple[int, str]:
    result = world.cli(*args, "--dir", str(folder))
    return result.exit_code, result.output


# --- 1. importing the docs' series -------------------------------------------------------------


SOURCES = [f"seeded-{sid}" for sid in SEEDED] + sorted(DOCS_BODIES)


@pytest.mark.parametrize("all_fields", [False, True], ids=["declared", "all-fields"])
@pytest.mark.parametrize("source", SOURCES)
def test_import_of_every_docs_series_plans_empty(
    world: World, source: str, all_fields: bool
) -> None:
    sid = create_docs_series(world, source)
    extra = ("--all-fields",) if all_fields else ()
    result = world.cli("import", str(sid), "--env", "local", *extra)
    assert result.exit_code == 0, result.output
    assert ": written" in result.output
    (key,) = world.state()["ids"]
    assert world.state()["ids"][key] == sid
    text = (world.series / f"{key}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Imported from environment 'local', series ")
    data = yaml.safe_load(text)
    assert data.pop("reconciler") == {"owns": "all"}  # the series owns every defaulted field
    assert all(BY_NAME[name].writable for name in data)
    if all_fields:
        assert len(data) >= 60  # every writable field the answer carries

    code, out = plan(world)
    assert code == 0, out
    validated = world.cli("validate")
    assert validated.exit_code == 0, validated.output
    for line in warning_lines(validated.output):
        assert any(w in line for w in EXPECTED_WARNINGS), line


def test_import_then_apply_changes_nothing_and_a_later_edit_converges(world: World) -> None:
    sid = create_docs_series(world, "update-page-request")
    assert world.cli("import", str(sid), "--env", "local").exit_code == 0
    before = world.sandbox.get_series(sid)
    code, out = apply(world)
    assert code == 0, out
    after = world.sandbox.get_series(sid)
    assert before is not None and after is not None
    assert after["lastUsed"] == before["lastUsed"]  # no PUT was needed
    (key,) = world.state()["ids"]
    path = world.series / f"{key}.yaml"
    path.write_text(path.read_text().replace("maxCreate: 1316432742", "maxCreate: 500"))
    assert plan(world)[0] == 2
    code, out = apply(world)
    assert code == 0, out
    assert plan(world)[0] == 0
    live = world.sandbox.get_series(sid)
    assert live is not None and live["maxCreate"] == 500
    assert live["discountValue"] == 150000004759552  # undeclared-by-change fields kept


def test_import_never_overwrites_an_existing_file(world: World) -> None:
    mine = series_text("Mine", "MINE")
    world.write("imported/onam-10-off", mine)
    # The key import would choose is taken by a file: it picks the next free one.
    result = world.cli("import", "520591", "--env", "local")
    assert result.exit_code == 0, result.output
    assert "520591: imported/onam-10-off-2 → " in result.output
    assert (world.series / "imported/onam-10-off.yaml").read_text() == mine
    assert world.state()["ids"] == {"imported/onam-10-off-2": 520591}
    # A key named for an existing file adopts the id for that file, whose lines stay as
    # written: the series now owns every defaulted field, as an imported one does.
    result = world.cli("import", "698948", "--env", "local", "--key", "imported/onam-10-off")
    assert result.exit_code == 0, result.output
    assert "recorded for the existing file; owns: all added to the file" in result.output
    owned = mine + "reconciler:\n  owns: all\n"
    assert (world.series / "imported/onam-10-off.yaml").read_text() == owned
    assert world.state()["ids"]["imported/onam-10-off"] == 698948
    assert sorted(p.name for p in (world.series / "imported").iterdir()) == [
        "onam-10-off-2.yaml",
        "onam-10-off.yaml",
    ]


def test_import_of_an_id_already_in_the_state_says_so(world: World) -> None:
    assert world.cli("import", "520591", "--env", "local").exit_code == 0
    files = sorted(p.name for p in world.series.rglob("*.yaml"))
    result = world.cli("import", "520591", "--env", "local")
    assert result.exit_code == 0, result.output
    assert "already managed as imported/onam-10-off" in result.output
    assert sorted(p.name for p in world.series.rglob("*.yaml")) == files
    assert world.state()["ids"] == {"imported/onam-10-off": 520591}


def test_import_of_an_unknown_id_reports_it(world: World) -> None:
    result = world.cli("import", "999999", "520591", "--env", "local")
    assert result.exit_code == 1
    assert "999999: -: not returned by the API: skipped" in result.output
    assert "520591: imported/onam-10-off" in result.output  # the others still imported
    assert world.state()["ids"] == {"imported/onam-10-off": 520591}
    assert plan(world)[0] == 0


# --- 2. random series: apply, or a direct create, then an empty plan ---------------------------

_SEED_IDS = list(SEEDED)  # ids that exist in every sandbox: mutualExclusiveSeriesIds refers to them
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\n\t\r"),
    min_size=0,
    max_size=24,
)
_WORDS = st.text(
    alphabet=string.ascii_letters + string.digits + " -_é€中", min_size=1, max_size=20
).filter(lambda s: s.strip() == s and s != "")
_INT32 = st.integers(INT32_MIN, INT32_MAX)


@st.composite
def moments(draw: st.DrawFn, *, first_year: int, last_year: int) -> str:
    """A date-time with a random time and UTC offset (-12:00 to +14:00) in one of the
    spellings the API's parser takes, or a bare date."""
    year = draw(st.integers(first_year, last_year))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, 28))
    if draw(st.integers(0, 5)) == 0:
        return f"{year:04d}-{month:02d}-{day:02d}"
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    offset = draw(st.integers(-12 * 4, 14 * 4)) * 15
    sign = "-" if offset < 0 else "+"
    hours, minutes = abs(offset) // 60, abs(offset) % 60
    spellings = [f"{sign}{hours:02d}:{minutes:02d}", f"{sign}{hours:02d}{minutes:02d}"]
    if minutes == 0:
        spellings.append(f"{sign}{hours:02d}")
    if offset == 0:
        spellings += ["Z", "z"]
    zone = draw(st.sampled_from(spellings))
    fraction = draw(st.sampled_from(["", ".5", ".123456"]))
    sep = draw(st.sampled_from(["T", " "]))
    return (
        f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"
    )


def _ids(draw: Any, pool: st.SearchStrategy[int], *, as_json_maybe: bool = True) -> Any:
    """A list of ids: random order, duplicates, numbers or numeric strings; maybe JSON text."""
    numbers = draw(st.lists(pool, min_size=0, max_size=5))
    values: list[int | str] = []
    for number in numbers:
        as_text: bool = draw(st.booleans())
        values.append(str(number) if as_text else number)
    if values and draw(st.booleans()):
        values.append(values[0])  # a duplicate
    if as_json_maybe and draw(st.booleans()):
        return json.dumps(values)
    return values


@st.composite
def redemption_ranges(draw: st.DrawFn) -> Any:
    bounds = {"dom": (1, 31), "dow": (1, 7), "hours": (0, 23)}
    out: dict[str, Any] = {}
    for key, (low, high) in bounds.items():
        choice = draw(st.integers(0, 4))
        if choice == 0:
            continue  # left out: all
        if choice == 1:
            out[key] = draw(st.sampled_from([[-1], ["-1"], -1, "-1"]))
        else:
            values: list[Any] = draw(st.lists(st.integers(low, high), min_size=1, max_size=5))
            values = [str(v) if draw(st.booleans()) else v for v in values]
            out[key] = values if len(values) > 1 or draw(st.booleans()) else values[0]
    if not out:
        out["dom"] = [-1]
    return json.dumps(out) if draw(st.booleans()) else out


@st.composite
def series_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid series file's fields, in the friendly forms a person may write."""
    handling = draw(st.sampled_from(["DISC_CODE", "GENERIC", "DISC_CODE_PIN"]))
    strategy = draw(st.sampled_from(["SERIES_EXPIRY", "DAYS", "MONTHS_END"]))
    any_user = draw(st.booleans())
    till = draw(moments(first_year=2031, last_year=2036))
    body: dict[str, Any] = {
        "description": draw(_WORDS),
        "discountCode": f"P{uuid.uuid4().hex[:10].upper()}",
        "discountType": draw(st.sampled_from(["ABS", "PERC"])),
        "discountValue": draw(
            st.integers(0, 10**6)
            | st.decimals(min_value=0, max_value=9999, places=2).map(float)
            | st.sampled_from([150000004759552, 16777216, 0.1, 19.99])
        ),
        "anyUser": any_user,
        "smsTemplate": draw(_TEXT.filter(lambda s: s.strip() != "")),
        "clientHandlingType": handling,
        "expiryStrategyType": strategy,
        "validTillDate": till,
    }
    if handling == "GENERIC":
        body["genericCode"] = draw(_WORDS)

    optional: dict[str, Any] = {}
    for spec in writable_fields():
        if spec.name in body or spec.required_on_create or spec.name == "genericCode":
            continue
        if spec.kind is Kind.STRING:
            optional[spec.name] = draw(_TEXT)
        elif spec.kind is Kind.INTEGER:
            low = spec.minimum if spec.minimum is not None else INT32_MIN
            edges = [v for v in (-1, 0, 1, INT32_MAX) if v >= low]
            optional[spec.name] = draw(st.integers(low, INT32_MAX) | st.sampled_from(edges))
        elif spec.kind is Kind.BOOLEAN:
            optional[spec.name] = draw(st.booleans())
        elif spec.kind is Kind.ENUM:
            optional[spec.name] = draw(st.sampled_from(spec.enum))
        elif spec.kind is Kind.ID_LIST:
            pool = (
                st.sampled_from([-1, *_SEED_IDS])
                if spec.name == ("mutualExclusiveSeriesIds")
                else st.integers(-1, 10**9)
            )
            optional[spec.name] = _ids(draw, pool)
        elif spec.kind is Kind.REDEMPTION_RANGE:
            optional[spec.name] = draw(redemption_ranges())
        elif spec.kind is Kind.OBJECT_LIST and spec.name == "productInfo":
            items = [
                {
                    "productType": draw(st.sampled_from(spec.subfield("productType").enum)),  # type: ignore[union-attr]
                    "productIds": _ids(draw, st.integers(1, 10**6), as_json_maybe=False),
                }
                for _ in range(draw(st.integers(0, 3)))
            ]
            optional[spec.name] = items
        elif spec.kind is Kind.OBJECT_LIST:
            optional[spec.name] = [
                {
                    "redemptionOrgEntityType": draw(
                        st.sampled_from(["CONCEPT", "TILL", "ZONE", "STORE"])
                    ),
                    "orgEntityId": draw(st.integers(1, 10**6)),
                }
                for _ in range(draw(st.integers(0, 3)))
            ]
        elif spec.kind is Kind.OBJECT:
            optional[spec.name] = {
                sub.name: draw(_INT32) for sub in spec.subfields if draw(st.booleans())
            }
        elif spec.kind is Kind.STRING_MAP:
            optional[spec.name] = draw(
                st.dictionaries(
                    st.sampled_from(["standard_terms_and_conditions", "key1", "ключ", "k 2"]),
                    _TEXT,
                    max_size=3,
                )
            )
        elif spec.kind is Kind.DATETIME:
            optional[spec.name] = draw(moments(first_year=2020, last_year=2030))

    # Cross-field rules, generated within them.
    if strategy == "SERIES_EXPIRY":
        optional["expiryStrategyValue"] = 1
    else:
        optional["expiryStrategyValue"] = draw(st.integers(1, 400))
    limit = draw(st.sampled_from([-1, None, 1, 3, 1000]))
    if any_user and handling != "GENERIC" and limit is not None:
        optional["redemptionPerCouponMaxLimit"] = limit
    else:
        optional.pop("redemptionPerCouponMaxLimit", None)
    if handling != "DISC_CODE":
        optional.pop("couponPrefix", None)
        optional.pop("couponSuffix", None)
    for affix in ("couponPrefix", "couponSuffix"):
        optional[affix] = draw(st.from_regex(r"\A[A-Za-z0-9_-]{0,10}\Z"))
        if handling != "DISC_CODE":
            del optional[affix]
    # Bill amounts are not negative, and min <= max holds with the server's default (0) for
    # a minimum left out: an import with --all-fields writes that 0 out.
    bills = sorted(draw(st.integers(0, INT32_MAX)) for _ in range(2))
    optional["minBillAmount"], optional["maxBillAmount"] = bills
    if optional["maxReferralsPerReferee"] <= 0:
        optional["maxReferralsPerReferee"] = -1
    optional.pop("seriesCode", None)
    if draw(st.booleans()):
        optional["seriesCode"] = f"S{uuid.uuid4().hex[:9]}"

    # Keep a random part of the optional fields: the others are left to the server's defaults.
    for name in sorted(optional):
        if draw(st.booleans()):
            body[name] = optional[name]
    return body


def write_series(path: Path, body: dict[str, Any], *, unquoted_dates: bool) -> None:
    """Write ``body`` as YAML; dates unquoted (as people write them) when asked."""
    dates = {k: v for k, v in body.items() if unquoted_dates and BY_NAME[k].kind is Kind.DATETIME}
    rest = {k: v for k, v in body.items() if k not in dates}
    text = yaml.safe_dump(rest, allow_unicode=True, sort_keys=False)
    text += "".join(f"{name}: {value}\n" for name, value in dates.items())
    path.write_text(text, encoding="utf-8")


def _valid(folder: Path) -> bool:
    loaded = load_series(folder)
    return loaded.ok and len(loaded.series) == 1


def _api_form(folder: Path) -> dict[str, Any]:
    (series,) = load_series(folder).series
    return dict(series.fields)


SETTINGS_HEALTH = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    derandomize=True,
)


@SETTINGS_HEALTH
@given(body=series_bodies(), unquoted=st.booleans())
def test_random_series_plan_empty_after_apply(
    world: World, body: dict[str, Any], unquoted: bool
) -> None:
    folder = new_folder(world)
    write_series(folder / f"{folder.name}.yaml", body, unquoted_dates=unquoted)
    assume(_valid(folder))
    try:
        code, out = cli_in(world, folder, "apply", "--env", "local", "--auto-approve")
        assert code == 0, out
        code, out = cli_in(world, folder, "plan", "--env", "local", "--detailed-exitcode")
        assert code == 0, f"{out}\n--- file ---\n{(folder / f'{folder.name}.yaml').read_text()}"
    finally:
        shutil.rmtree(folder)


@SETTINGS_HEALTH
@given(body=series_bodies(), unquoted=st.booleans(), all_fields=st.booleans())
def test_random_series_plan_empty_after_a_direct_create(
    world: World, body: dict[str, Any], unquoted: bool, all_fields: bool
) -> None:
    body.pop("seriesCode", None)  # the server makes its own on create (seeds/003)
    folder = new_folder(world)
    write_series(folder / f"{folder.name}.yaml", body, unquoted_dates=unquoted)
    assume(_valid(folder))
    try:
        made = post_series(world, _api_form(folder))
        code, out = cli_in(
            world, folder, "import", str(made["id"]), "--env", "local", "--key", folder.name
        )
        assert code == 0 and "recorded for the existing file" in out, out
        code, out = cli_in(world, folder, "plan", "--env", "local", "--detailed-exitcode")
        assert code == 0, f"{out}\n--- file ---\n{(folder / f'{folder.name}.yaml').read_text()}"
        # And the import of that series, into a folder of its own, plans empty too.
        other = new_folder(world)
        code, out = cli_in(
            world,
            other,
            "import",
            str(made["id"]),
            "--env",
            "local",
            *(["--all-fields"] if all_fields else []),
        )
        assert code == 0, out
        code, out = cli_in(world, other, "plan", "--env", "local", "--detailed-exitcode")
        written = "\n".join(p.read_text() for p in other.rglob("*.yaml"))
        assert code == 0, f"{out}\n--- files ---\n{written}"
        shutil.rmtree(other)
    finally:
        shutil.rmtree(folder)


# --- 3. drift behind the tool's back -----------------------------------------------------------


def test_drift_in_a_declared_field_shows_alone_and_an_apply_removes_it(world: World) -> None:
    world.write("a/one", series_text("One", "ONE", extra="maxRedeem: 40\n"))
    assert apply(world)[0] == 0
    sid = world.state()["ids"]["a/one"]
    world.sandbox.edit_series(sid, {"maxRedeem": 41})
    result = world.cli("plan", "--env", "local", "--detailed-exitcode", "--format", "json")
    assert result.exit_code == 2, result.output
    data = json.loads(result.output[result.output.index("{") :])
    (series,) = data["series"]
    assert series["action"] == "update"
    assert [c["field"] for c in series["changes"]] == ["maxRedeem"]
    assert (series["changes"][0]["before"], series["changes"][0]["after"]) == (41, 40)
    code, out = apply(world)
    assert code == 0, out
    assert plan(world)[0] == 0
    live = world.sandbox.get_series(sid)
    assert live is not None and live["maxRedeem"] == 40


def test_drift_in_an_undeclared_field_never_shows_and_survives_the_next_apply(
    world: World,
) -> None:
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    sid = world.state()["ids"]["a/one"]
    crm = {
        "maxCreate": 777,
        "tag": "set in the CRM",
        "redemptionRange": '{"dom": [2, 1], "dow": [-1], "hours": [-1]}',
        "storeIdsJson": "[3, 1]",
        "validTillDate": "2031-01-01T10:00:00+05:30",  # declared: this one must show
    }
    world.sandbox.edit_series(sid, crm)
    result = world.cli("plan", "--env", "local", "--detailed-exitcode", "--format", "json")
    data = json.loads(result.output[result.output.index("{") :])
    (series,) = data["series"]
    assert [c["field"] for c in series["changes"]] == ["validTillDate"]
    # A declared change forces a PUT: the undeclared CRM edits survive it.
    world.write("a/one", series_text("One", "ONE", value=250))
    code, out = apply(world)
    assert code == 0, out
    assert plan(world)[0] == 0
    live = world.sandbox.get_series(sid)
    assert live is not None
    assert live["maxCreate"] == 777 and live["tag"] == "set in the CRM"
    assert live["storeIdsJson"] == "[3, 1]"
    assert json.loads(live["redemptionRange"])["dom"] == [2, 1]
    assert live["discountValue"] == 250 and live["validTillDate"] == "2030-09-30T00:00:00Z"


# --- 4. settings defaults ----------------------------------------------------------------------

DEFAULTS = """\
  isSMSDisabled: true
  redemptionRange: {dom: [15, 1], dow: ["-1"], hours: [9, 10]}
  storeIdsJson: [12, 11, 12]
  customPropertyMap: {standard_terms_and_conditions: "T&C — ünïcode"}
  redemptionValidFrom: 2030-01-01T23:30:00-04:00
"""


def with_defaults(world: World) -> None:
    path = world.series / "reconciler.yaml"
    text = path.read_text()
    path.write_text(text.replace("defaults:\n", "defaults:\n" + DEFAULTS), encoding="utf-8")


def test_settings_defaults_converge_after_apply(world: World) -> None:
    with_defaults(world)
    world.write("a/one", series_text("One", "ONE"))
    world.write("a/two", series_text("Two", "TWO", extra="isSMSDisabled: false\n"))
    code, out = apply(world)
    assert code == 0, out
    assert plan(world)[0] == 0
    ids = world.state()["ids"]
    one, two = world.sandbox.get_series(ids["a/one"]), world.sandbox.get_series(ids["a/two"])
    assert one is not None and two is not None
    assert one["isSMSDisabled"] is True and two["isSMSDisabled"] is False
    assert one["redemptionValidFrom"] == "2030-01-02T00:00:00Z"
    assert one["customPropertyMap"] == {"standard_terms_and_conditions": "T&C — ünïcode"}
    # Drift away from a default shows, and an apply removes it.
    world.sandbox.edit_series(ids["a/one"], {"isSMSDisabled": False})
    assert plan(world)[0] == 2
    assert apply(world)[0] == 0
    assert plan(world)[0] == 0


@pytest.mark.parametrize("source", ["seeded-520591", "update-page-request"])
def test_import_under_settings_defaults_plans_empty(world: World, source: str) -> None:
    with_defaults(world)
    sid = create_docs_series(world, source)
    result = world.cli("import", str(sid), "--env", "local")
    assert result.exit_code == 0, result.output
    code, out = plan(world)
    assert code == 0, out
    (key,) = world.state()["ids"]
    data = yaml.safe_load((world.series / f"{key}.yaml").read_text())
    # The live values differ from the defaults, so the file states them.
    assert data["isSMSDisabled"] is False
    assert "redemptionRange" in data and "storeIdsJson" in data
    assert validate_ok(world)


def test_import_of_a_series_made_under_the_defaults_plans_empty(world: World) -> None:
    with_defaults(world)
    world.write("a/one", series_text("One", "ONE"))
    assert apply(world)[0] == 0
    sid = world.state()["ids"]["a/one"]
    # A second folder with the same defaults adopts the series.
    folder = new_folder(world, "")
    (folder / "reconciler.yaml").write_text(
        (world.series / "reconciler.yaml").read_text(), encoding="utf-8"
    )
    code, out = cli_in(world, folder, "import", str(sid), "--env", "local")
    assert code == 0, out
    (path,) = [p for p in folder.rglob("*.yaml") if p.name != "reconciler.yaml"]
    data = yaml.safe_load(path.read_text())
    # Values other than the server's own defaults are written out, even when the settings'
    # defaults say the same (the importer's documented choice): the file stands on its own.
    assert data["isSMSDisabled"] is True and sorted(set(data["storeIdsJson"])) == [11, 12]
    code, out = cli_in(world, folder, "plan", "--env", "local", "--detailed-exitcode")
    assert code == 0, out


def validate_ok(world: World) -> bool:
    result = world.cli("validate")
    return result.exit_code == 0
