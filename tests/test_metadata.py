"""The action's metadata and workflows: schema-valid, actionlint-clean, and in step with
the README and the product's fixed input and output names."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests import readme

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WORKFLOWS = sorted([*ROOT.glob("examples/*.yml"), *ROOT.glob(".github/workflows/*.yml")])

# Fixed by the product brief: users' workflows depend on these names.
INPUTS = [
    "mode",
    "cluster",
    "services",
    "snapshot-id",
    "store",
    "region",
    "wait",
    "timeout-minutes",
    "dry-run",
    "restore-desired-count",
    "max-concurrency",
    "scope",
    "pin-images",
    "since",
    "full",
    "regions",
    "scheduled-tasks",
    "signing-key",
]
OUTPUTS = ["snapshot-id", "snapshot-uri", "result", "changed-services", "services", "clusters"]


def action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_yml_matches_the_action_metadata_schema() -> None:
    # tests/schemas/github-action.json: SchemaStore's schema for action.yml, as vendored
    # by check-jsonschema 0.39.0 (see tests/schemas/README.md).
    schema = json.loads((ROOT / "tests/schemas/github-action.json").read_text())
    jsonschema.validate(action(), schema)


def test_action_declares_exactly_the_product_inputs_and_outputs() -> None:
    meta = action()
    assert list(meta["inputs"]) == INPUTS
    assert list(meta["outputs"]) == OUTPUTS
    assert meta["inputs"]["mode"]["required"] and meta["inputs"]["cluster"]["required"]
    runs = meta["runs"]
    assert runs["using"] == "docker"
    assert runs["image"].startswith("docker://ghcr.io/")
    assert runs["post-if"] == "!success()"  # failed, cancelled or timed out: restore
    # The post step's script is in the image, where post-entrypoint says.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert runs["post-entrypoint"] == "/app/post.py" and "post.py /app/" in dockerfile


def test_every_input_is_read_with_its_hyphenated_name() -> None:
    from ecsundo_action.edges.action import read_inputs

    asked: list[str] = []

    def get(name: str) -> str:
        asked.append(name)
        return {"mode": "restore", "cluster": "prod", "snapshot-id": "latest"}.get(name, "")

    read_inputs(get, {})
    assert sorted(asked) == sorted(INPUTS)


def test_readme_tables_are_generated_from_action_yml() -> None:
    text = README.read_text()
    assert text.count("<!-- /inputs -->") == 1 and text.count("<!-- /outputs -->") == 1
    assert text == readme.render(text, action()), "stale tables: run make readme"
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `([a-z-]+)` \| ([^|]+) \|", text, re.M)}
    assert list(rows)[: len(INPUTS)] == INPUTS
    assert rows["timeout-minutes"] == "`15`" and rows["mode"] == "required"


def test_a_newcomer_finishes_the_readme_and_its_quick_start_is_a_working_workflow(
    tmp_path: Path,
) -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    first_screen = "\n".join(text.splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
    assert "uses: org/ecsundo-action@v1" in first_screen
    quick_start = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = tmp_path / ".github" / "workflows" / "quick-start.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(quick_start)
    meta = yaml.safe_load(quick_start)
    steps = meta["jobs"]["deploy"]["steps"]
    assert [s.get("with", {}).get("mode") for s in steps if "ecsundo" in s.get("uses", "")] == [
        "snapshot",
        "restore",
    ]
    proc = _lint(workflow, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for link in re.findall(r"\]\(([^)#]+)\)", text):  # every linked file exists
        assert (ROOT / link).exists(), link


def _actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(found).exists():
        pytest.fail("actionlint is not installed: run make test (it installs the test extras)")
    return found


def _lint(workflow: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_actionlint(), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_passes_actionlint(workflow: Path) -> None:
    proc = _lint(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_examples_cover_the_three_stories() -> None:
    texts = {p.name: p.read_text() for p in ROOT.glob("examples/*.yml")}
    assert {"auto-rollback.yml", "guard.yml", "manual-rollback.yml"} <= set(texts)
    for text in texts.values():
        assert "id-token: write" in text and "configure-aws-credentials" in text
        assert "role-to-assume" in text
    manual = yaml.safe_load(texts["manual-rollback.yml"])
    dispatch = manual[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as True
    assert dispatch["mode"]["type"] == "choice"
    assert dispatch["snapshot-id"]["default"] == "latest"
    # The Region and the window come from the form: fleets reuse cluster names by Region.
    [undo] = [s for s in manual["jobs"]["rollback"]["steps"] if s.get("id") == "undo"]
    [credentials] = manual["jobs"]["rollback"]["steps"][:1]
    assert credentials["with"]["aws-region"] == "${{ inputs.region }}"
    assert undo["with"]["since"] == "${{ inputs.since }}" and "since" in dispatch
    # One concurrency group per cluster and Region, ecs-<region>-<cluster>, in every example
    # that deploys or rolls back, so a manual rollback never runs beside a deploy.
    assert manual["concurrency"]["group"] == "ecs-${{ inputs.region }}-${{ inputs.cluster }}"
    fleet = yaml.safe_load(texts["fleet.yml"])
    groups = [job["concurrency"]["group"] for job in fleet["jobs"].values() if "concurrency" in job]
    assert groups == ["ecs-${{ matrix.region }}-${{ matrix.cluster }}"]
    for name in ("auto-rollback.yml", "guard.yml"):  # eu-west-1's prod, as in their steps
        assert yaml.safe_load(texts[name])["concurrency"]["group"] == "ecs-eu-west-1-prod", name
    # The three work together as copied: every step that snapshots or restores uses the one
    # store named once, in the repository variable.
    for name, text in texts.items():
        steps = [
            step
            for job in yaml.safe_load(text)["jobs"].values()
            for step in job["steps"]
            if str(step.get("uses", "")).startswith("org/ecsundo-action")
            and step["with"].get("mode") != "discover"  # it reads no snapshot
        ]
        assert steps, name
        for step in steps:
            assert step["with"].get("store") == "${{ vars.ECSUNDO_STORE }}", (name, step)
