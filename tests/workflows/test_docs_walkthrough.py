"""docs/ci.md followed as written: a series repository built step by step from its commands,
against two orgs that already hold coupon series and a local "GitHub" (an empty bare
repository, the workflows run by the harness on the events GitHub sends).

Each step's shell block runs verbatim with bash (-e: a failing line fails the test); only
the URLs of the repositories are put in for the local ones. Steps 1 and 2 (pick the tool's
commit, pip install from GitHub) need the network and are only checked to be there: the tool
under test is installed already.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from tests.workflows.conftest import GitHub, install_workflows
from tests.workflows.harness import ROOT, World

DOCS = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def section(number: int) -> str:
    start = DOCS.index(f"\n### {number}. ")
    following = re.search(r"\n##+ ", DOCS[start + 5 :])
    assert following is not None
    return DOCS[start : start + 5 + following.start()]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def sh(world: World, script: str, cwd: Path, **extra: str) -> str:
    # The credentials of both orgs in the shell (step 4), nothing else of the test's own.
    secrets = {k: v for k, v in world.repo_secrets.items() if k.startswith("CAPILLARY_")}
    env = {**world.env(), **secrets, **extra}
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout + done.stderr


def seed(github: GitHub) -> None:
    """Production has two series; testing a copy of one (same code, its own id) and its own."""

    def series(code: str, value: int) -> dict[str, Any]:
        return {
            "description": f"{code} offer",
            "discountCode": code,
            "discountType": "ABS",
            "discountValue": value,
            "anyUser": True,
            "clientHandlingType": "DISC_CODE",
            "expiryStrategyType": "SERIES_EXPIRY",
            "validTillDate": "2030-09-30T00:00:00Z",
            "smsTemplate": "Hi {{first_name}}, your code is {{voucher}}",
        }

    github.orgs["production"].create(series("SPRING10", 10))
    github.orgs["production"].create(series("WELCOME5", 5))
    github.orgs["testing"].create(series("SPRING10", 10))
    github.orgs["testing"].create(series("TESTONLY", 1))


def test_a_series_repository_built_from_docs_ci_md_step_by_step(empty_github: GitHub) -> None:
    github = empty_github
    world = github.world
    seed(github)
    origin_url = "https://github.com/acme/coupons"

    # 0. The repository: an empty one, cloned.
    (step0,) = blocks(section(0), "sh")
    assert origin_url in step0
    parent = world.root / "laptop"
    parent.mkdir()
    hosted = world.root / "github.example" / "acme" / "coupons"  # what the URL names
    hosted.parent.mkdir(parents=True)
    hosted.symlink_to(world.origin)
    sh(world, step0.replace(origin_url, str(hosted)), parent)
    repo = parent / "coupons"
    assert (repo / ".git").is_dir()

    # 1 and 2: the pin and the install (network); the tool under test stands in.
    assert "git ls-remote" in section(1) and "pip install" in section(2)

    # 3. The settings file, and .gitignore.
    (settings,) = blocks(section(3), "yaml")
    assert settings.startswith("# series/reconciler.yaml\n")
    (repo / "series").mkdir()
    (repo / "series" / "reconciler.yaml").write_text(settings, encoding="utf-8")
    (ignore,) = blocks(section(3), "sh")
    sh(world, ignore, repo)

    # 4. The first adoption from both orgs, then what one org lacks created from the plans
    #    read: both plans are empty after it, as the step requires.
    adoption, create_now = blocks(section(4), "sh")
    out = sh(world, adoption, repo)
    assert "+ imported/testonly-offer" in out and "+ imported/welcome5-offer" in out, out
    sh(world, create_now, repo)
    files = sorted(p.relative_to(repo / "series").as_posix() for p in repo.glob("series/**/*.yaml"))
    assert len(files) == 4, files  # the settings and one file per distinct series
    for env in ("testing", "production"):
        assert (repo / "series" / ".state" / f"{env}.json").is_file()
        plan = sh(world, f"reconciler plan --env {env} --detailed-exitcode", repo)
        assert "No changes" in plan, plan
    assert {s["discountCode"] for s in github.orgs["testing"].all_series()} == {
        "SPRING10",
        "WELCOME5",
        "TESTONLY",
    }

    # 5. The workflows, `uses: ./` replaced as it says.
    replace, by = blocks(section(5), "yaml")[:2]
    assert replace.strip() == "uses: ./"
    pinned = re.search(r"uses: (\S+)", by)
    assert pinned is not None
    install_workflows(repo, pinned.group(1).replace("OWNER", "acme").replace("<sha>", "f" * 40))

    # 6. Environments and secrets: the fixture set them (repository and environment secrets).
    assert "Allow GitHub Actions to create\nand approve pull requests* **off**" in section(6)

    # 7. The first push. Its apply finds no reviewed plan and nothing to apply: green, no
    #    issue, nothing written.
    (first_push,) = blocks(section(7), "sh")
    sh(world, first_push, repo)
    before = {env: github.orgs[env].all_series() for env in ("testing", "production")}
    run = world.run_workflow("apply.yml", "push")
    for job in ("reviewed-plan", "apply-testing", "apply-production"):
        assert run.result(job) == "success", run.jobs.get(job) and run.job(job).log
    assert "no reviewed plan, and none is needed" in run.job("apply-testing").log.lower()
    assert world.api()["issues"] == []
    assert {env: github.orgs[env].all_series() for env in before} == before

    # 8. The state branch, from a clone of its own: the local state files stay.
    (state_branch,) = blocks(section(8), "sh")
    sh(world, state_branch, repo)
    assert (repo / "series" / ".state" / "production.json").is_file()
    assert sh(world, "git status --porcelain", repo).strip() == ""
    assert sh(world, "git rev-parse --abbrev-ref HEAD", repo).strip() in ("main", "master")
    listed = world.origin_git("ls-tree", "-r", "--name-only", "reconciler-state").split()
    assert listed == ["series/.state/production.json", "series/.state/testing.json"]
    assert world.origin_git("symbolic-ref", "HEAD") == "refs/heads/main"

    # 9. main protected: from now on only a merge reaches it.
    protect_main(world)

    # 11. The first pull request: a value changed, planned, merged, applied, converged.
    sh(world, "git switch -q -c spring-15", repo)
    (spring,) = [p for p in repo.glob("series/**/*.yaml") if "SPRING10" in p.read_text()]
    spring.write_text(spring.read_text().replace("discountValue: 10", "discountValue: 15"))
    sh(world, "git commit -q -am 'Spring: 15 off' && git push -q origin spring-15", repo)
    world.git("fetch", "-q", "origin")
    world.git("checkout", "-q", "-B", "spring-15", "origin/spring-15")
    pr = world.open_pull_request("spring-15", 1)
    run = world.run_workflow("plan.yml", "pull_request", pull_request=pr)
    assert [j.result for j in run.jobs["plan"]] == ["success", "success"]
    for env in ("testing", "production"):
        body = [b for b in world.comments(1) if b.startswith(f"<!-- reconciler-plan:{env} -->")]
        assert len(body) == 1 and "| discountValue | 10 | 15 |" in body[0], body
    merge(world, 1)
    run = world.run_workflow("apply.yml", "push")
    for job in ("apply-testing", "apply-production"):
        assert run.result(job) == "success", run.job(job).log
    for env in ("testing", "production"):
        live = [s for s in github.orgs[env].all_series() if s["discountCode"] == "SPRING10"]
        assert [s["discountValue"] for s in live] == [15]
    assert "Applied to production" in world.comments(1)[-1]
    sh(world, "git switch -q main && git pull -q origin main", repo)
    for env in ("testing", "production"):
        out = sh(world, f"reconciler plan --env {env} --detailed-exitcode", repo)
        assert "0 to create, 0 to update" in out or "No changes" in out
    # The ledger, fetched back from the state branch as "The ledger on the state branch" says.
    ledger_section = DOCS[DOCS.index("\n## The ledger on the state branch") :]
    ledger_block = blocks(ledger_section[: ledger_section.index("\n## ", 1)], "sh")[0]
    out = sh(world, ledger_block, repo)
    assert "Applies to production" in out and "git revert" in out, out


def protect_main(world: World) -> None:
    """A pre-receive hook: pushes to main are refused unless the harness is merging."""
    allow = world.root / "merging"
    hook = world.origin / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n"
        f'  if [ "$ref" = refs/heads/main ] && [ ! -f "{allow}" ]; then\n'
        '    echo "protected branch" >&2; exit 1\n  fi\ndone\n'
    )
    hook.chmod(0o755)


def merge(world: World, number: int) -> str:
    allow = world.root / "merging"
    allow.touch()
    try:
        return world.merge_pull_request(number)
    finally:
        allow.unlink()
