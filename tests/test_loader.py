"""Loading a directory of series files and the settings file."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reconciler.files.loader import load_series, load_settings
from reconciler.model.settings import Environment

BASE = """\
description: Test series
discountCode: {code}
discountType: ABS
discountValue: 100
anyUser: true
clientHandlingType: DISC_CODE
expiryStrategyType: SERIES_EXPIRY
validTillDate: 2030-12-31
"""


def _series(code: str, extra: str = "") -> str:
    return BASE.format(code=code) + extra


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


SETTINGS = """\
defaults:
  smsTemplate: "Hi {{first_name}}"
  maxCreate: 500
ignore:
  - field: priority
    reason: set in the CRM
environments:
  production:
    base_url: https://eu.api.capillarytech.com
    auth: basic
    env_prefix: CAPILLARY_PROD
    batch_size: 10
    timeout_seconds: 15
  local:
    base_url: http://127.0.0.1:8080
"""


def test_keys_nesting_hidden_files_and_defaults(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS,
            "summer/sale-10.yaml": _series("S10", "maxCreate: 20\n"),
            "b.yml": _series("B"),
            ".state/production.yaml": "not: a series\n",
            ".hidden.yaml": "- not a series\n",
            "notes.txt": "ignored",
        },
    )
    result = load_series(tmp_path, display_root=tmp_path)
    assert result.ok, result.problems
    assert [s.key for s in result.series] == ["b", "summer/sale-10"]
    sale = result.series[1]
    assert sale.file == "summer/sale-10.yaml"
    assert sale.fields["maxCreate"] == 20  # the file wins over the defaults
    assert sale.fields["smsTemplate"] == "Hi {{first_name}}"
    assert result.series[0].fields["maxCreate"] == 500
    assert sale.lines["maxCreate"] == 9 and sale.lines["smsTemplate"] == 0
    assert sale.declared == frozenset(sale.fields)
    assert "seriesCode" not in sale.declared
    assert len(sale.digest) == 64
    env = result.settings.environments["production"]
    assert env == Environment(
        name="production",
        base_url="https://eu.api.capillarytech.com",
        auth="basic",
        env_prefix="CAPILLARY_PROD",
        batch_size=10,
        timeout_seconds=15.0,
    )
    assert result.settings.environments["local"].base_url == "http://127.0.0.1:8080"
    assert [r.field for r in result.settings.ignore] == ["priority"]


def test_the_digest_covers_every_file(tmp_path: Path) -> None:
    _tree(tmp_path, {"reconciler.yaml": SETTINGS, "a.yaml": _series("A")})
    first = load_series(tmp_path).digest
    assert load_series(tmp_path).digest == first
    (tmp_path / "reconciler.yaml").write_text(SETTINGS.replace("500", "501"))
    second = load_series(tmp_path).digest
    assert second != first
    (tmp_path / "a.yaml").rename(tmp_path / "b.yaml")
    assert load_series(tmp_path).digest != second


def test_only_files_without_errors_become_series(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "good.yaml": _series("G", "smsTemplate: hi\n"),
            "bad.yaml": _series("X", "smsTemplate: hi\nmaxCreate: lots\n"),
        },
    )
    result = load_series(tmp_path, display_root=tmp_path)
    assert not result.ok
    assert [s.key for s in result.series] == ["good"]
    assert [p.file for p in result.problems] == ["bad.yaml"]


def test_options_of_a_series(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "a.yaml": _series(
                "A",
                "smsTemplate: hi\nreconciler:\n  retire: true\n"
                "  ignore:\n    - field: maxRedeem\n"
                "      reason: ops tune it\n",
            )
        },
    )
    result = load_series(tmp_path, display_root=tmp_path)
    assert result.ok, result.problems
    options = result.series[0].options
    assert options.retire is True
    assert [(r.field, r.reason, r.source) for r in options.ignore] == [
        ("maxRedeem", "ops tune it", "a.yaml")
    ]
    assert "reconciler" not in result.series[0].fields


def test_past_dates_are_relative_to_today(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.yaml": _series("A", "smsTemplate: hi\n")})
    assert load_series(tmp_path, today=date(2030, 6, 1)).problems == ()
    (warning,) = load_series(tmp_path, today=date(2031, 1, 1)).problems
    assert "already past" in warning.message and not warning.is_error


def test_no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPILLARY_BASE_URL", "https://apac.api.capillarytech.com")
    settings, problems = load_settings(tmp_path)
    assert problems == []
    # The URL stays a variable (the trusted side): the client reads CAPILLARY_BASE_URL.
    assert settings.environments == {"default": Environment(name="default")}


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("environments:\n  p:\n    token: abc\n", 3, "secrets never live in files"),
        (
            "environments:\n  p:\n    env_prefix: ACME\n    api_key: x\n",
            4,
            "set ACME_PASSWORD in the environment",
        ),
        ("environments:\n  p:\n    base_url: http://10.0.0.1\n", 3, "must use https"),
        ("environments:\n  p:\n    base_url: eu.api.capillarytech.com\n", 3, "full address"),
        ("environments:\n  p:\n    auth: token\n", 3, "auth"),
        ("environments:\n  p:\n    batch_size: 0\n", 3, "batch_size"),
        ("environments:\n  p:\n    parallelism: true\n", 3, "parallelism"),
        ("environments:\n  p:\n    env_prefix: capillary\n", 3, "upper-case"),
        ("password: x\n", 1, "secrets never live in files: set CAPILLARY_PASSWORD"),
        ("defaults: [1]\n", 1, "defaults must be a mapping"),
        ("environments: [prod]\n", 1, "environments must be a mapping"),
    ],
)
def test_settings_problems(tmp_path: Path, text: str, line: int, needle: str) -> None:
    (tmp_path / "reconciler.yaml").write_text(text)
    _settings, problems = load_settings(tmp_path)
    assert any(p.line == line and needle in p.message for p in problems), problems


def test_http_is_allowed_for_loopback_only(tmp_path: Path) -> None:
    for url in ("http://localhost:8080", "http://127.0.0.5", "http://[::1]:9000"):
        (tmp_path / "reconciler.yaml").write_text(f"environments:\n  l:\n    base_url: {url}\n")
        settings, problems = load_settings(tmp_path)
        assert problems == [], url
        assert settings.environments["l"].base_url == url


# --- hostile entries in the series folder (issue 11) -------------------------------------------


def _validate_cli(directory: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=directory.parent,
        **kwargs,
    )


def test_a_link_out_of_the_folder_is_refused_and_its_content_never_shown(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("postgres:!:19000:0:99999:7:::\n")
    valid = tmp_path / "valid.yaml"
    valid.write_text(_series("OUT"))
    series = tmp_path / "series"
    series.mkdir()
    (series / "a.yaml").symlink_to(outside)
    (series / "b.yaml").symlink_to(valid)
    result = load_series(series, display_root=series)
    assert not result.series  # the valid series outside is not accepted either
    messages = {p.file: p.message for p in result.problems}
    assert "symbolic link" in messages["a.yaml"] and "symbolic link" in messages["b.yaml"]
    assert "postgres" not in str(result.problems)


def test_a_link_inside_the_folder_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text(_series("IN", 'smsTemplate: "Hi"\n'))
    (tmp_path / "alias.yaml").symlink_to("real.yaml")
    result = load_series(tmp_path, display_root=tmp_path)
    assert [s.key for s in result.series] == ["real"]
    (problem,) = result.problems
    assert problem.file == "alias.yaml" and "symbolic link" in problem.message


def test_a_self_link_and_a_dangling_link_are_problems(tmp_path: Path) -> None:
    (tmp_path / "self.yaml").symlink_to("self.yaml")
    (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")
    result = load_series(tmp_path, display_root=tmp_path)
    assert {p.file for p in result.problems} == {"self.yaml", "gone.yaml"}
    done = _validate_cli(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr


def test_a_link_to_a_folder_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.yaml").write_text(_series("X"))
    series = tmp_path / "series"
    series.mkdir()
    (series / "linked").symlink_to(elsewhere)
    result = load_series(series, display_root=series)
    assert not result.series
    (problem,) = result.problems
    assert problem.file == "linked" and not problem.is_error and "not followed" in problem.message


def test_a_link_to_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    (tmp_path / "z.yaml").symlink_to("/dev/zero")
    # Before the fix, read_bytes() read gigabytes: bound the memory so it fails fast.
    done = _validate_cli(tmp_path, preexec_fn=_limit_memory)
    assert done.returncode == 1, done.stderr
    assert "symbolic link" in done.stderr and "Traceback" not in done.stderr


def test_a_huge_file_is_refused_from_its_size_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "huge.yaml").open("wb") as handle:  # sparse: no disk used
        handle.truncate(4 * 1024**3)
    done = _validate_cli(tmp_path, preexec_fn=_limit_memory)
    assert done.returncode == 1, done.stderr
    assert "too large to be a series file" in done.stderr and "Traceback" not in done.stderr


def test_a_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "f.yaml")
    done = _validate_cli(tmp_path)  # before the fix: blocked in open() until the timeout
    assert done.returncode == 1
    assert "named pipe" in done.stderr


def test_a_socket_is_refused(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.bind(str(tmp_path / "s.yaml"))
        except OSError:
            pytest.skip("cannot bind a unix socket here")
        result = load_series(tmp_path, display_root=tmp_path)
    (problem,) = result.problems
    assert "socket" in problem.message


def test_a_linked_settings_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("environments:\n  p:\n    base_url: https://private.example\n")
    series = tmp_path / "series"
    series.mkdir()
    (series / "reconciler.yaml").symlink_to(secret)
    settings, problems = load_settings(series)
    assert "private.example" not in str(settings) and "symbolic link" in problems[0].message


@pytest.mark.parametrize("name", [b"\xff\xfe.yaml", b"dir-\xff/x.yaml"])
def test_names_that_are_not_utf8_are_problems(tmp_path: Path, name: bytes) -> None:
    path = os.path.join(os.fsencode(tmp_path), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(_series("NU").encode())
    result = load_series(tmp_path, display_root=tmp_path)
    (problem,) = result.problems
    assert "not UTF-8" in problem.message and "\\xff" in problem.file
    done = _validate_cli(tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2-secret@eu.api.capillarytech.com",
        "https://hunter2-secret@eu.api.capillarytech.com",
        "https://eu.api.capillarytech.com/?password=hunter2-secret",
        "https://eu.api.capillarytech.com/#hunter2-secret",
        "https://eu.api.capillarytech.com:hunter2-secret/",
        "ftp://u:hunter2-secret@eu.api.capillarytech.com",
    ],
)
def test_a_base_url_with_a_secret_is_refused_without_echoing_it(tmp_path: Path, url: str) -> None:
    (tmp_path / "reconciler.yaml").write_text(f"environments:\n  p:\n    base_url: '{url}'\n")
    settings, problems = load_settings(tmp_path)
    assert "p" not in settings.environments
    assert problems and all("hunter2" not in p.message for p in problems), problems


def test_many_files_sharing_a_discount_code_are_reported_compactly(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    for i in range(1_000):
        (tmp_path / f"s{i:04d}.yaml").write_text(_series("SAME"))
    result = load_series(tmp_path, display_root=tmp_path)
    shared = [p for p in result.problems if "is also used by" in p.message]
    assert len(shared) == 1_000
    assert max(len(p.message) for p in shared) < 300  # was 10 KB each: quadratic in all
    assert "and 996 other files" in shared[0].message


def test_files_are_shown_as_display_does_with_each_folder_resolved_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.files import paths as shown

    (tmp_path / "series" / "a" / "b").mkdir(parents=True)
    paths = [
        tmp_path / "series" / "top.yaml",
        tmp_path / "series" / "a" / "one.yaml",
        tmp_path / "series" / "a" / "two.yaml",
        tmp_path / "series" / "a" / "b" / "three.yaml",
        tmp_path / "elsewhere" / "x.yaml",
    ]
    monkeypatch.chdir(tmp_path / "series" / "a")
    expected = [shown.display_path(p, tmp_path / "series") for p in paths]
    expected_cwd = [shown.display_path(p, None) for p in paths]
    resolved: list[Path] = []
    real = shown.resolved_folder

    def counting(folder: Path) -> Path:
        resolved.append(folder)
        return real(folder)

    monkeypatch.setattr(shown, "resolved_folder", counting)
    display = shown.PathDisplay(tmp_path / "series")
    assert [display(p) for p in paths] == expected
    in_cwd = shown.PathDisplay(None)
    assert [in_cwd(p) for p in paths] == expected_cwd
    assert expected[:2] == ["top.yaml", "a/one.yaml"] and expected_cwd[1] == "one.yaml"
    # Two roots, four folders, the working directory once per load: not once per file.
    assert len(resolved) == 2 + 4 + 1 + 4


# --- the load's own speed-ups change nothing a user sees (issue 24) ----------------------------


def test_a_value_checked_once_still_warns_in_every_file(tmp_path: Path) -> None:
    # Checked scalars are remembered per load only when they had no problem: a warning (here
    # a deprecated field) is given in every file that has it, each at its own line.
    extra = 'smsTemplate: "Hi"\nisReferralExistingUsersAllowed: false\n'
    _tree(tmp_path, {f"s{i}.yaml": _series(f"C{i}", "\n" * i + extra) for i in range(3)})
    result = load_series(tmp_path)
    warned = sorted((p.file, p.line) for p in result.problems if "deprecated" in p.message)
    assert [line for _, line in warned] == [10, 11, 12]
    assert all(s.fields["isReferralExistingUsersAllowed"] is False for s in result.series)


def test_a_load_restores_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    _tree(tmp_path, {"a.yaml": _series("A"), "b.yaml": "a: [\n"})
    assert gc.isenabled()
    load_series(tmp_path)
    assert gc.isenabled()
    gc.disable()
    try:
        load_series(tmp_path)
        assert not gc.isenabled()
    finally:
        gc.enable()
