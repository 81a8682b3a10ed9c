"""Each environment's settings: checked strictly, every problem at once, with pydantic's words
(the checks were pydantic's until it cost 90 ms of every cold start; these pin them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.files.settings_file import load_settings


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("batch_size: 0", "batch_size: Input should be greater than 0 (found 0)"),
        ("batch_size: true", "batch_size: Input should be a valid integer (found True)"),
        ("batch_size: 5.0", "batch_size: Input should be a valid integer (found 5.0)"),
        ("batch_size: '5'", "batch_size: Input should be a valid integer (found '5')"),
        ("batch_size:", "batch_size: Input should be a valid integer (found None)"),
        ("timeout_seconds: yes", "timeout_seconds: Input should be a valid number (found True)"),
        ("timeout_seconds: .nan", "timeout_seconds: Input should be greater than 0 (found nan)"),
        (
            "max_update_share: .nan",
            "max_update_share: Input should be less than or equal to 1 (found nan)",
        ),
        (
            "max_update_share: 1.5",
            "max_update_share: Input should be less than or equal to 1 (found 1.5)",
        ),
        (
            "share_min_series: -1",
            "share_min_series: Input should be greater than or equal to 0 (found -1)",
        ),
        ("auth: token", "auth: Input should be 'basic' or 'oauth' (found 'token')"),
        ("env_prefix:", "env_prefix: Input should be a valid string (found None)"),
        ("base_url: 5", "base_url: Input should be a valid string"),
        ("batch_sise: 5", "has no setting 'batch_sise': did you mean batch_size? The settings"),
    ],
)
def test_a_wrong_setting_is_named_with_what_was_found(
    tmp_path: Path, body: str, message: str
) -> None:
    (tmp_path / "reconciler.yaml").write_text(f"environments:\n  prod:\n    {body}\n")
    settings, problems = load_settings(tmp_path)
    assert [p.line for p in problems] == [3]
    assert message in problems[0].message, problems[0].message
    assert "prod" not in settings.environments


def test_every_wrong_setting_at_once_and_whole_numbers_are_valid_floats(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "environments:\n  bad:\n    batch_size: 0\n    parallelism: x\n    extra: 1\n"
        "  good:\n    timeout_seconds: 5\n    create_settle_seconds: .inf\n    auth:\n"
        "    batch_size: 100000000000000000000\n"
    )
    settings, problems = load_settings(tmp_path)
    assert [p.line for p in problems] == [3, 4, 5]
    good = settings.environments["good"]
    assert good.timeout_seconds == 5.0 and isinstance(good.timeout_seconds, float)
    assert good.create_settle_seconds == float("inf") and good.auth is None
    assert good.batch_size == 10**20 and good.parallelism == 4  # Environment's default
