"""The validation rules, run the way users run them: ``reconciler validate`` on files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.files.loader import load_series

CORPUS = Path(__file__).parent / "corpus" / "invalid"
EXPECTED: dict[str, list[dict[str, Any]]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(
    r"^(?P<file>[^:]+?)(?::(?P<line>\d+):(?P<column>\d+))?: "
    r"(?P<severity>error|warning): (?P<message>.*)$"
)

BASE = """\
description: Test series
discountCode: T1
discountType: ABS
discountValue: 100
anyUser: true
smsTemplate: "Hi {{first_name}}"
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
validTillDate: 2030-12-31
"""


def _run(directory: Path) -> Any:
    return CliRunner().invoke(main, ["validate", "--dir", str(directory)])


def _problems(output: str) -> list[dict[str, Any]]:
    found = []
    for line in output.splitlines():
        match = LINE.match(line)
        if match:
            found.append(match.groupdict())
    return found


def test_the_corpus_is_large_enough() -> None:
    cases = [p for p in CORPUS.iterdir() if p.name != "expected.yaml"]
    assert len(cases) >= 45
    assert sorted(p.name for p in cases) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_corpus_case(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = CORPUS / case
    target = tmp_path / "series"
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir()
        shutil.copy(source, target / case)
    monkeypatch.chdir(tmp_path)
    result = _run(Path("series"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    expected = EXPECTED[case]
    # Cases whose problems are all warnings (a rule the CRM itself can break) still pass.
    errors = any(want.get("severity", "error") == "error" for want in expected)
    assert result.exit_code == (1 if errors else 0), result.output
    reported = _problems(result.output)
    assert len(reported) == len(expected), result.output
    unmatched = list(reported)
    for want in expected:
        file = "series/" + (want.get("file") or case)
        for got in unmatched:
            if (
                got["file"] == file
                and int(got["line"] or 0) == want["line"]
                and ("column" not in want or int(got["column"] or 0) == want["column"])
                and got["severity"] == want.get("severity", "error")
                and want["contains"] in got["message"]
            ):
                unmatched.remove(got)
                break
        else:
            pytest.fail(f"{case}: no problem matches {want}\n{result.output}")


def test_the_repository_series_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = _run(Path("series"))
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output
    assert "series valid" in result.output


def test_three_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = BASE.replace("discountType: ABS", "discountType: FLAT")
    text += "discountValeu: 10\nnumIssued: 0\n"
    (tmp_path / "a.yaml").write_text(text)
    result = load_series(tmp_path, display_root=tmp_path)
    assert [p.line for p in result.problems] == [3, 10, 11]
    assert not result.ok
    assert result.series == ()


def test_two_broken_files_are_both_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE + "maxCreate: lots\n")
    (tmp_path / "b.yaml").write_text(BASE.replace("T1", "T2") + "colour: red\n")
    (tmp_path / "c.yaml").write_text(BASE.replace("T1", "T3"))
    result = _run(tmp_path)
    assert result.exit_code == 1
    files = {Path(p["file"]).name for p in _problems(result.output)}
    assert files == {"a.yaml", "b.yaml"}
    assert result.output.count("2 errors, 0 warnings.") == 1  # the count once, after them


def test_warnings_alone_exit_zero(tmp_path: Path) -> None:
    text = BASE.replace("validTillDate: 2030-12-31", "validTillDate: 2030-06-12T00:00:00+05:30")
    (tmp_path / "a.yaml").write_text(text)
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning: validTillDate 2030-06-12T00:00:00+05:30 is 2030-06-11T18:30:00Z" in (
        result.output
    )


def test_a_missing_directory_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = _run(tmp_path / "nope")
    assert result.exit_code == 1
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_the_api_form_of_friendly_values(tmp_path: Path) -> None:
    text = BASE + (
        "redemptionRange: {dom: [1, 15], dow: [1], hours: [-1]}\n"
        "storeIdsJson: [101, 102]\n"
        "redeemAtStore: '[-1]'\n"
        "redemptionValidFrom: 2030-01-01T05:30:00+05:30\n"
    )
    (tmp_path / "a.yaml").write_text(text)
    result = load_series(tmp_path)
    assert result.ok, result.problems
    fields = result.series[0].fields
    assert fields["redemptionRange"] == '{"dom": [1, 15], "dow": [1], "hours": [-1]}'
    assert fields["storeIdsJson"] == "[101, 102]"
    assert fields["redeemAtStore"] == "[-1]"
    assert fields["validTillDate"] == "2030-12-31T00:00:00+00:00"
    assert fields["redemptionValidFrom"] == "2030-01-01T05:30:00+05:30"


def test_max_bill_amount_minus_one_means_no_maximum(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE + "minBillAmount: 100\nmaxBillAmount: -1\n")
    assert load_series(tmp_path, display_root=tmp_path).ok
    (tmp_path / "a.yaml").write_text(BASE + "minBillAmount: 100\nmaxBillAmount: 50\n")
    loaded = load_series(tmp_path, display_root=tmp_path)
    assert loaded.ok  # the server takes the pair: a warning, so an import of it validates
    assert [p.message for p in loaded.problems if not p.is_error] == [
        "minBillAmount 100 is above maxBillAmount 50: no bill could qualify"
    ]


# Spellings a person writes (as YAML text, unquoted where YAML allows), each sent in the
# docs' one request form.
DATE_SPELLINGS = [
    ("2029-01-01 20:00:00-08:00", "2029-01-01T20:00:00-08:00"),  # an unquoted YAML timestamp
    ("2029-01-01T20:00:00z", "2029-01-01T20:00:00+00:00"),
    ("2029-01-01T20:00:00Z", "2029-01-01T20:00:00+00:00"),
    ("2029-01-01T20:00-08:00", "2029-01-01T20:00:00-08:00"),
    ("2029-01-01T20:00:00-08", "2029-01-01T20:00:00-08:00"),
    ("2029-01-01T20:00:00-0800", "2029-01-01T20:00:00-08:00"),
    ("2029-01-01T20:00:00.5+05:30", "2029-01-01T20:00:00+05:30"),
    ("'2029-01-01T20:00:00+05:30'", "2029-01-01T20:00:00+05:30"),
    ("2029-01-01", "2029-01-01T00:00:00+00:00"),
]


@pytest.mark.parametrize(("written", "sent"), DATE_SPELLINGS)
def test_every_date_spelling_validate_accepts_is_sent_in_the_api_form(
    tmp_path: Path, written: str, sent: str
) -> None:
    text = BASE.replace("validTillDate: 2030-12-31", f"validTillDate: {written}")
    text += f"redemptionValidFrom: {written}\n"
    (tmp_path / "a.yaml").write_text(text)
    result = load_series(tmp_path, display_root=tmp_path)
    assert result.ok, result.problems
    fields = result.series[0].fields
    assert fields["validTillDate"] == sent
    assert fields["redemptionValidFrom"] == sent


def test_a_date_past_the_last_utc_day_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    # Issue 11: this raised OverflowError (10000-01-01 in UTC).
    text = BASE.replace("validTillDate: 2030-12-31", "validTillDate: '9999-12-31T23:59:59-14:00'")
    (tmp_path / "a.yaml").write_text(text)
    result = _run(tmp_path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (problem,) = _problems(result.output)
    assert problem["line"] == "9"
    assert "outside the dates a server can hold" in problem["message"]
    assert "YYYY-MM-DDTHH:MM:SS+hh:mm" in problem["message"]


@pytest.mark.parametrize("name", ["storeIdsJson", "redemptionRange"])
def test_json_text_nested_5000_deep_is_a_problem_not_a_traceback(tmp_path: Path, name: str) -> None:
    # Issue 11: json.loads raised RecursionError on these.
    deep = "[" * 5000 + "]" * 5000
    (tmp_path / "a.yaml").write_text(BASE + f"{name}: '{deep}'\n")
    result = _run(tmp_path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    (problem,) = _problems(result.output)
    assert problem["line"] == "10"
    assert f"{name}" in problem["message"] and "nests deeper than 32 levels" in (problem["message"])


def test_a_series_ended_before_its_redemption_started_is_a_warning(tmp_path: Path) -> None:
    # What the CRM holds for a series ended early (the documented way to end one): import
    # writes it, so validate must take it.
    text = BASE.replace("validTillDate: 2030-12-31", "validTillDate: 2024-01-01T00:00:00Z")
    (tmp_path / "a.yaml").write_text(text + "redemptionValidFrom: 2024-06-01T00:00:00Z\n")
    result = _run(tmp_path)
    assert result.exit_code == 0, result.output
    messages = [p["message"] for p in _problems(result.output) if p["severity"] == "warning"]
    assert any("before redemptionValidFrom" in m for m in messages), result.output


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (
            "discountValue: 08",
            "discountValue must be a number: 08 is text in YAML (digits after a leading 0 are "
            "read as an octal number, and 08 is not one); write 8",
        ),
        ('discountValue: "08"', "08 is text in YAML"),
        ("maxCreate: 09", "maxCreate must be a number: 09 is text in YAML"),
        ('discountValue: "15"', "discountValue must be a number: write 15 without quotes"),
    ],
)
def test_a_number_written_as_text_says_what_to_write(tmp_path: Path, line: str, words: str) -> None:
    """22.12: ``discountValue: 08`` said "write 08 without quotes" (it has none)."""
    field = line.split(":", maxsplit=1)[0]
    kept = [x for x in BASE.splitlines() if not x.startswith(f"{field}:")]
    (tmp_path / "a.yaml").write_text("\n".join([*kept, line]) + "\n")
    result = _run(tmp_path)
    assert result.exit_code == 1
    messages = [p["message"] for p in _problems(result.output)]
    assert any(words in m for m in messages), messages
    assert not any("write 08 without quotes" in m for m in messages)


@pytest.mark.parametrize("value", ["[877510, 927443]", "[5]"])
def test_distinct_from_lists_series_ids(tmp_path: Path, value: str) -> None:
    (tmp_path / "a.yaml").write_text(BASE + f"reconciler:\n  distinct_from: {value}\n")
    result = load_series(tmp_path, display_root=tmp_path)
    assert result.ok, result.problems
    assert result.series[0].options.distinct_from == tuple(sorted(yaml.safe_load(value)))


@pytest.mark.parametrize("value", ["877510", "[]", "[0]", "[-5]", "[true]", '["877510"]', "[1.5]"])
def test_distinct_from_refuses_what_is_not_a_list_of_series_ids(tmp_path: Path, value: str) -> None:
    (tmp_path / "a.yaml").write_text(BASE + f"reconciler:\n  distinct_from: {value}\n")
    result = load_series(tmp_path, display_root=tmp_path)
    [problem] = result.problems
    assert problem.line == 11 and "distinct_from: lists the ids" in problem.message


# --- types as the OpenAPI gives them, and values the documented answers carry ---------------


def _fields_and_problems(tmp_path: Path, extra: str) -> tuple[dict[str, Any], list[Any]]:
    (tmp_path / "a.yaml").write_text(BASE + extra)
    loaded = load_series(tmp_path, display_root=tmp_path)
    fields = dict(loaded.series[0].fields) if loaded.series else {}
    return fields, list(loaded.problems)


def test_bill_amounts_and_discount_upto_take_fractions(tmp_path: Path) -> None:
    fields, problems = _fields_and_problems(
        tmp_path, "minBillAmount: 99.5\nmaxBillAmount: 1000.25\ndiscountUpto: 12.5\n"
    )
    assert problems == []
    assert (fields["minBillAmount"], fields["maxBillAmount"], fields["discountUpto"]) == (
        99.5,
        1000.25,
        12.5,
    )


def test_discount_upto_is_single_precision_like_discount_value(tmp_path: Path) -> None:
    _, problems = _fields_and_problems(tmp_path, "discountUpto: 150000000000000.5\n")
    assert [p.message for p in problems] == [
        "discountUpto 150000000000000.5 cannot be stored exactly: the server keeps "
        "single-precision numbers and would store 150000004759552"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "maxVouchersPerUser",
        "minDaysBetweenVouchers",
        "maxRedemptionsInSeriesPerUser",
        "minDaysBetweenRedemption",
        "redemptionValidAfterDays",
        "randomCodeLength",
        "redemptionPerCouponMaxLimit",
    ],
)
def test_int32_fields_are_range_checked(tmp_path: Path, name: str) -> None:
    _, problems = _fields_and_problems(tmp_path, f"{name}: 2147483648\n")
    assert [p.message for p in problems if p.is_error] == [
        f"{name} 2147483648 is beyond what the API holds for it (a 32-bit number, "
        "-2147483648 to 2147483647)"
    ]
    _, fine = _fields_and_problems(tmp_path, f"{name}: 2147483647\n")
    assert not [p for p in fine if p.is_error]


@pytest.mark.parametrize("value", [1, -1])
def test_series_expiry_takes_1_or_the_servers_minus_1(tmp_path: Path, value: int) -> None:
    _, problems = _fields_and_problems(tmp_path, f"expiryStrategyValue: {value}\n")
    assert problems == []


def test_a_prefix_on_a_series_without_generated_codes_is_a_warning(tmp_path: Path) -> None:
    text = "couponPrefix: SUM\n"
    (tmp_path / "a.yaml").write_text(
        BASE.replace("clientHandlingType: DISC_CODE", "clientHandlingType: DISC_CODE_PIN") + text
    )
    loaded = load_series(tmp_path, display_root=tmp_path)
    assert loaded.ok
    assert [(p.severity.value, p.message) for p in loaded.problems] == [
        (
            "warning",
            "couponPrefix is ignored on a DISC_CODE_PIN series: the server adds it only to the "
            "codes of DISC_CODE series",
        )
    ]


def test_fields_no_answer_shows_are_warned_where_declared(tmp_path: Path) -> None:
    products = "productInfo:\n  - productType: SKU\n    productIds: [1]\n"
    entities = (
        "redemptionOrgEntityDetails:\n  - redemptionOrgEntityType: STORE\n    orgEntityId: 4\n"
    )
    _, problems = _fields_and_problems(tmp_path, products + entities)
    assert [(p.field, p.is_error) for p in problems] == [
        ("productInfo", False),
        ("redemptionOrgEntityDetails", False),
    ]
    assert all("every update of this series" in p.message for p in problems)


def test_owns_takes_all_or_written(tmp_path: Path) -> None:
    _, fine = _fields_and_problems(tmp_path, "reconciler:\n  owns: all\n")
    assert fine == []
    _, problems = _fields_and_problems(tmp_path, "reconciler:\n  owns: everything\n")
    assert [p.message for p in problems] == [
        "owns: is all (every field with a documented server default is held at it where the "
        "file writes nothing) or written (only the fields written are managed; the default), "
        'not "everything"'
    ]


def test_a_shared_discount_code_is_a_warning_when_series_codes_tell_them_apart(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(BASE + "seriesCode: SA\n")
    (tmp_path / "b.yaml").write_text(BASE + "seriesCode: SB\n")
    loaded = load_series(tmp_path, display_root=tmp_path)
    assert loaded.ok
    assert [(p.file, p.severity.value) for p in loaded.problems] == [
        ("a.yaml", "warning"),
        ("b.yaml", "warning"),
    ]
    # One of them without a seriesCode of its own: nothing tells them apart.
    (tmp_path / "b.yaml").write_text(BASE)
    refused = load_series(tmp_path, display_root=tmp_path)
    assert not refused.ok
    assert all("(or a seriesCode of its own)" in p.message for p in refused.problems)
