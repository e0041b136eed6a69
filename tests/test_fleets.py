"""Fleets: `mode: discover` (and `ecsundo clusters`) finds the clusters matching a pattern in
several Regions, as the {cluster, region} pairs a matrix job takes; the CLI is a tool people
install, with a version and a help that shows every command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

from ecsundo_action.edges import cli
from tests.conftest import ecsundo
from tests.runner import ROOT, defaults, run_step


def fleet(sim: Any) -> None:
    """prod-a and prod-b in us-east-1, prod-c and a staging cluster in us-west-2."""
    for region, names in (("us-east-1", ["prod-a", "prod-b", "test"]), ("us-west-2", ["prod-c"])):
        ecs = sim.client("ecs", region_name=region)
        for name in names:
            ecs.create_cluster(clusterName=name)
    sim.client("ecs", region_name="us-west-2").create_cluster(clusterName="staging")


EXPECTED = [
    {"cluster": "prod-a", "region": "us-east-1"},
    {"cluster": "prod-b", "region": "us-east-1"},
    {"cluster": "prod-c", "region": "us-west-2"},
]


def test_discover_across_two_regions_through_the_action(sim: Any, workspace: Path) -> None:
    fleet(sim)
    sim.calls.clear()
    found = run_step(
        "entrypoint.py",
        defaults(mode="discover", cluster="prod-*", regions="us-east-1, us-west-2"),
        sim.env,
        workspace,
    )
    assert found.returncode == 0, found.stdout
    assert json.loads(found.outputs["clusters"]) == EXPECTED
    assert found.outputs["result"] == "success"
    assert "| prod-c | us-west-2 |" in found.summary
    assert {c.operation for c in sim.calls} == {"ListClusters"}  # it only reads
    # Without regions: the current Region only.
    here = run_step(
        "entrypoint.py", defaults(mode="discover", cluster="prod-*"), sim.env, workspace
    )
    assert json.loads(here.outputs["clusters"]) == EXPECTED[:2]


def test_ecsundo_clusters_lists_them_as_a_table_or_json(sim: Any) -> None:
    fleet(sim)
    table = ecsundo(sim, "clusters", "prod-*", "--regions", "us-west-2,us-east-1")
    assert table.returncode == 0, table.stderr
    assert table.stdout.split("\n")[:4] == [
        "CLUSTER  REGION",
        "prod-a   us-east-1",
        "prod-b   us-east-1",
        "prod-c   us-west-2",
    ]
    as_json = ecsundo(sim, "clusters", "prod-*", "--regions", "us-east-1,us-west-2", "--json")
    assert json.loads(as_json.stdout)["clusters"] == EXPECTED
    none = ecsundo(sim, "clusters", "nothing-*")
    assert none.returncode == 0 and "no cluster matches nothing-*" in none.stdout


def test_the_fleet_example_fans_out_per_cluster() -> None:
    example = yaml.safe_load((ROOT / "examples/fleet.yml").read_text())
    discover, per_cluster = example["jobs"].values()
    [step] = [s for s in discover["steps"] if str(s.get("uses", "")).startswith("org/ecsundo")]
    assert step["with"]["mode"] == "discover" and "regions" in step["with"]
    assert discover["outputs"]["clusters"] == f"${{{{ steps.{step['id']}.outputs.clusters }}}}"
    strategy = per_cluster["strategy"]
    assert strategy["fail-fast"] is False and strategy["max-parallel"] >= 1
    assert strategy["matrix"]["include"] == "${{ fromJSON(needs.discover.outputs.clusters) }}"
    [guard] = [s for s in per_cluster["steps"] if str(s.get("uses", "")).startswith("org/ecsundo")]
    assert guard["with"]["cluster"] == "${{ matrix.cluster }}"
    assert guard["with"]["region"] == "${{ matrix.region }}"


def test_version_and_help_list_every_command(sim: Any) -> None:
    version = ecsundo(sim, "--version")
    assert version.returncode == 0 and version.stdout.strip() == "ecsundo 0.1.0"
    shown = ecsundo(sim, "help").stdout
    for command in (
        "cluster prod",
        "service -c prod web",
        "cluster snapshot prod",
        "cluster restore prod",
        "snapshots -c prod",
        "clusters 'prod-*'",
        "--version",
    ):
        assert f"ecsundo {command}" in shown, command
    verbs = cli._parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert all(f"ecsundo {verb}" in shown for verb in verbs)


def test_the_package_builds_a_wheel_pipx_can_install(tmp_path: Path) -> None:
    """pipx installs the wheel built from the repository: the command and its data files."""
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    for name in ("pyproject.toml", "README.md", "ecsundo_action"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        source.mkdir(exist_ok=True)
        copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), source],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("ecsundo_action-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "ecsundo = ecsundo_action.edges.cli:main" in archive.read(entry_points).decode()
    assert any(
        n.startswith("ecsundo_action/snapshots/schema/") and n.endswith(".json") for n in names
    )
