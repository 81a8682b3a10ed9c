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
