"""The policy file (``reconciler.files.policy``): read like the series files, every problem at
once with its file:line, a JSON Schema for editors, and patterns that cannot hang CI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.files.loader import load_series
from reconciler.files.policy import CHECKS, pattern_problem, policy_schema, read_policy

EXAMPLE = """\
rules:
  - id: big-percentage
    level: approve
    reason: more than 50% off needs the marketing lead
    percent_above: 50
  - id: big-amount
    level: deny
    amount_above: 1000
  - id: long-validity
    level: warn
    validity_longer_than_days: 365
  - id: frozen-once-issued
    level: approve
    frozen_once_issued: [discountType, discountValue]
  - id: vip
    level: deny
    protected: true
    series: ["vip/*"]
    environments: [production]
  - id: description-style
    level: warn
    description_must_match: '^[A-Z].* [0-9]+% off'
"""

SERIES = """\
description: Summer 10% off
discountCode: SUMMER10
validTillDate: 2030-09-30T00:00:00Z
anyUser: true
discountValue: 10
smsTemplate: "Hi {{first_name}}, {{voucher}}"
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
discountType: PERC
"""

SETTINGS = """\
environments:
  production:
    base_url: https://eu.api.capillarytech.com
  testing:
    base_url: https://eu.api.capillarytech.com
"""


def folder(tmp_path: Path, policy: str) -> Path:
    series = tmp_path / "series"
    series.mkdir(exist_ok=True)
    (series / "reconciler.yaml").write_text(SETTINGS)
    (series / "summer.yaml").write_text(SERIES)
    (series / "policy.yaml").write_text(policy)
    return series


def test_the_documented_example_reads_into_one_rule_per_check(tmp_path: Path) -> None:
    loaded = load_series(folder(tmp_path, EXAMPLE))
    assert loaded.ok, loaded.problems
    assert [r.check for r in loaded.policy.rules] == list(CHECKS)
    vip = loaded.policy.rule("vip")
    assert vip is not None and vip.series == ("vip/*",) and vip.environments == ("production",)
    assert vip.line == 15  # where the rule starts, for findings that point at it
    # policy.yaml is not a series file.
    assert [s.key for s in loaded.series] == ["summer"]


def test_the_readme_example_is_this_one() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### Policy: `series/policy.yaml` (optional)", 1)[1]
    block = block.split("```yaml\n", 1)[1].split("```", 1)[0]
    ids = re.findall(r"- id: ([a-z-]+)", block)
    checks = [c for c in CHECKS if f"    {c}:" in block]
    assert ids == re.findall(r"- id: ([a-z-]+)", EXAMPLE)
    assert checks == list(CHECKS)


def test_every_problem_at_once_with_its_line(tmp_path: Path) -> None:
    policy = """\
rules:
  - id: Bad_Id
    level: maybe
    percent_above: 5
    amount_above: 3
  - id: twice
    level: warn
    percent_above: 60
  - id: twice
    level: warn
    description_must_match: '(a+)+$'
  - id: frozen
    level: deny
    frozen_once_issued: [discountValu, numIssued]
    environments: [prod]
    colour: red
  - id: nothing
    level: warn
extra: 1
"""
    result = CliRunner().invoke(main, ["validate", "--dir", str(folder(tmp_path, policy))])
    assert result.exit_code == 1
    found = {
        (int(m[1]), m[2])
        for m in re.finditer(r"policy\.yaml:(\d+):\d+: error: (.*)", result.output)
    }
    lines = sorted(line for line, _ in found)
    assert lines == [2, 2, 3, 9, 11, 14, 14, 15, 16, 17, 19], result.output
    text = result.output
    assert "a rule id is lower-case letters" in text
    assert "Input should be 'warn', 'approve' or 'deny'" in text
    assert "rule 1 must have exactly one check (percent_above, amount_above given)" in text
    assert "rule id 'twice' is also the id of rule 2" in text
    assert "this pattern could take minutes" in text
    assert "'discountValu' is not a field a series file sets: did you mean discountValue?" in text
    assert "'numIssued' is not a field a series file sets" in text
    assert "'prod' is not an environment of the settings" in text
    assert "rule 4 has no key 'colour'" in text
    assert "rule 5 must have exactly one check (none given)" in text
    assert "unknown key 'extra'" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    "text",
    [
        "rules: 3\n",
        "- a\n- b\n",
        "rules:\n  - 7\n",
        "rules:\n  - {id: a, level: warn, percent_above: -1}\n",
        "rules:\n  - {id: a, level: warn, protected: false}\n",
        "rules:\n  - {id: a, level: warn, frozen_once_issued: []}\n",
        "rules:\n  - {id: a, level: warn, description_must_match: '" + "a" * 300 + "'}\n",
        "rules:\n  - {id: a, level: warn, description_must_match: '('}\n",
        "rules: !!python/object:os.system [ls]\n",
        "\x00",
    ],
)
def test_a_bad_file_is_problems_never_a_crash(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    read = read_policy(path, shown="series/policy.yaml")
    assert any(p.is_error for p in read.problems), text
    assert read.policy.rules == ()


def test_a_link_named_policy_yaml_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("rules: []\n")
    (tmp_path / "policy.yaml").symlink_to(tmp_path / "secret")
    read = read_policy(tmp_path / "policy.yaml", shown="policy.yaml")
    assert read.problems[0].message.startswith("the file is a symbolic link")


def test_the_policy_is_part_of_the_files_digest(tmp_path: Path) -> None:
    """A saved plan is made for these rules: changing them makes it stale like a series."""
    series = folder(tmp_path, EXAMPLE)
    before = load_series(series).digest
    (series / "policy.yaml").write_text(EXAMPLE.replace("percent_above: 50", "percent_above: 40"))
    assert load_series(series).digest != before


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(a|aa)*b", r"(\w)\1", "(?:x*)*", "((ab)*)+", "(?=(a+)+)b"]
)
def test_patterns_that_backtrack_exponentially_are_refused(pattern: str) -> None:
    assert "could take minutes" in pattern_problem(pattern)


@pytest.mark.parametrize(
    "pattern", ["^Summer", "[A-Z][a-z]+ [0-9]{1,3}% off$", "(foo|bar) sale", "(?:ab)*c", "x?y+"]
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) == ""


def test_the_schema_describes_every_check_and_one_check_per_rule() -> None:
    schema = policy_schema()
    rule = schema["$defs"]["Rule"]
    assert set(CHECKS) <= set(rule["properties"])
    assert rule["additionalProperties"] is False
    assert rule["oneOf"] == [{"required": [c]} for c in CHECKS]
    assert rule["properties"]["level"]["enum"] == ["warn", "approve", "deny"]
    result = CliRunner().invoke(main, ["schema", "--policy"])
    assert result.exit_code == 0
    assert json.loads(result.output) == schema
