"""The supply chain: every third-party action is pinned to a full commit SHA (its version in a
comment, for people and for Dependabot), Dependabot keeps actions, Python dependencies and
the base image current, and the release attests the image and pins action.yml to its digest."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted([*ROOT.glob(".github/workflows/*.yml"), *ROOT.glob("examples/*.yml")])
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
# Our own action in the examples: users pin it to the release commit they trust (the
# release writes the image digest into action.yml, so that commit pins the image too).
OURS = "org/ecsundo-action@"


def uses(path: Path) -> list[tuple[str, str | None]]:
    return [
        (m["ref"], m["comment"])
        for line in path.read_text().splitlines()
        if (m := USES.match(line))
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_third_party_action_is_pinned_to_a_commit_sha(workflow: Path) -> None:
    found = [(ref, comment) for ref, comment in uses(workflow) if not ref.startswith("./")]
    for ref, comment in found:
        if ref.startswith(OURS):
            continue
        assert PINNED.fullmatch(ref), f"{workflow.name}: {ref} is not pinned to a commit SHA"
        assert comment and re.fullmatch(r"v\d+\.\d+\.\d+", comment), (
            f"{workflow.name}: {ref} needs its version in a comment (# vX.Y.Z)"
        )


def test_dependabot_watches_actions_python_and_the_base_image() -> None:
    config = yaml.safe_load((ROOT / ".github/dependabot.yml").read_text())
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    assert watched == {
        ("github-actions", "/"),
        ("pip", "/"),
        ("pip", "/requirements"),
        ("docker", "/"),
    }
    assert (ROOT / "requirements/runtime.txt").exists() and (ROOT / "Dockerfile").exists()


def _release() -> dict[str, Any]:
    return yaml.safe_load((ROOT / ".github/workflows/release.yml").read_text())


def _steps(job: dict[str, Any]) -> list[str]:
    """Each step's action (without its pin) or name."""
    return [str(s.get("uses", "")).split("@")[0] or s.get("name", "") for s in job["steps"]]


def test_release_builds_pushes_attests_then_pins_action_yml_to_the_digest() -> None:
    release = _release()
    assert release["permissions"] == {}  # each job asks for what it needs, no more
    jobs = release["jobs"]
    assert list(jobs) == ["image", "pin"] and jobs["pin"]["needs"] == "image"

    image = jobs["image"]
    assert image["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
        "attestations": "write",
    }
    steps = _steps(image)
    build = steps.index("docker/build-push-action")
    attest = steps.index("actions/attest-build-provenance")
    assert steps[0] == "actions/checkout" and build < attest
    built = image["steps"][build]
    assert built["id"] == "build" and built["with"]["push"] is True
    attested = image["steps"][attest]["with"]
    assert attested["subject-digest"] == "${{ steps.build.outputs.digest }}"
    assert attested["push-to-registry"] is True
    assert image["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"

    pin = jobs["pin"]
    assert pin["permissions"] == {"contents": "write"}
    script = "\n".join(str(s.get("run", "")) for s in pin["steps"])
    env = {k: v for s in pin["steps"] for k, v in (s.get("env") or {}).items()}
    assert env["DIGEST"] == "${{ needs.image.outputs.digest }}"
    # action.yml names the image by the digest just pushed, on the commit the tags point at.
    assert "image: docker://ghcr.io/${GITHUB_REPOSITORY,,}@${DIGEST}" in script
    assert "git add action.yml" in script and "git commit" in script
    for tag in ('"$TAG"', '"$major"', '"$minor"'):
        assert f"git tag --force {tag}" in script, tag
    assert "git push --force origin" in script


def test_action_yml_names_the_image_the_release_rewrites() -> None:
    meta = yaml.safe_load((ROOT / "action.yml").read_text())
    # Between releases it names the floating major tag; a release commit names a digest.
    assert re.fullmatch(
        r"docker://ghcr\.io/org/ecsundo-action(:v\d+|@sha256:[0-9a-f]{64})", meta["runs"]["image"]
    )


def test_the_changelog_starts_with_the_unreleased_changes() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog") and "## Unreleased" in text


# --- the development lock: a fresh clone installs exactly what passed --------------------------

LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$", re.M)


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text()
    return {_normal(found): version for found, version in LOCKED.findall(text)}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return _normal(found[0])


def test_make_installs_only_from_hash_locked_files() -> None:
    """Every pip install the Makefile runs takes a hash-locked file whole (--no-deps: nothing
    resolved at install time), or the project itself without build isolation; only `make
    newest` (the drift check) installs unlocked releases."""
    target = ""
    for line in (ROOT / "Makefile").read_text().replace("\\\n", " ").splitlines():
        if re.match(r"^[\w$().-]+:", line):
            target = line.split(":")[0]
        if "pip install" not in line:
            continue
        if target == "newest":
            continue
        command = " ".join(line.split())
        if command.endswith("-e ."):
            assert "--no-deps" in command and "--no-build-isolation" in command, line
        else:
            assert "--require-hashes --no-deps" in command, line
    assert "-r requirements/dev.txt" in (ROOT / "Makefile").read_text()


def test_the_lock_pins_every_declared_dependency_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared.extend(extra)
    dev = _locked("dev.txt")
    assert {_requirement_name(r) for r in declared} - dev.keys() == set()
    for name in ("dev.txt", "runtime.txt", "ecs-deploy.txt"):
        text = (ROOT / "requirements" / name).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text.split("\n", 6)[-1])
        for entry in entries:
            if "==" in entry.split("\n")[0]:
                assert "--hash=sha256:" in entry, (name, entry.split("\n")[0])
    # The image and the tests run the same versions of what they share.
    runtime = _locked("runtime.txt")
    assert {k: v for k, v in dev.items() if k in runtime} == {
        k: v for k, v in runtime.items() if k in dev
    }
    # The build backend is locked too: the project installs without build isolation.
    assert "setuptools" in dev


def test_this_environment_runs_the_locked_versions() -> None:
    if (Path(sys.prefix) / ".newest").exists():
        pytest.skip("make newest: this run tests the newest releases, the lock ignored")
    dev = _locked("dev.txt")
    installed = {
        _normal(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()
    }
    differ = {
        name: (version, installed.get(name))
        for name, version in dev.items()
        if installed.get(name) != version
    }
    assert differ == {}, "installed versions differ from requirements/dev.txt (make clean test)"
