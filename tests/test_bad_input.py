"""Bad input that only shows once AWS or the store is read: snapshot documents that are
truncated, tampered, another cluster's, region's or account's, or of an unknown schema;
missing credentials; the wrong region. Through the action and through the CLI, each is
one line naming the problem, exit 1, no traceback, and no call that changes anything.

(Malformed inputs and arguments have their tables in test_action.py and test_cli.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.snapshots import document as doc
from tests.runner import defaults, measured, run_step

ECSUNDO = str(Path(sys.executable).parent / "ecsundo")


def _edit(change: Callable[[dict[str, Any]], None], reseal: bool = True) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        document = json.loads(path.read_text())
        change(document)
        if reseal:
            document["checksum"] = doc.checksum(document)
        path.write_text(json.dumps(document))

    return apply


def _truncate(path: Path) -> None:
    path.write_text(path.read_text()[:300])


def _move(document: dict[str, Any], **values: Any) -> None:
    document.update(values)


# (id, how the stored snapshot is spoiled, environment changes, the reason expected)
CASES: list[tuple[str, Callable[[Path], None] | None, dict[str, str | None], str]] = [
    ("truncated", _truncate, {}, "not valid JSON (truncated or corrupted)"),
    (
        "tampered",
        _edit(lambda d: d["services"][0].update(desiredCount=9), reseal=False),
        {},
        "fails its checksum",
    ),
    (
        "other-cluster",
        _edit(lambda d: d["cluster"].update(name="staging")),
        {},
        "belongs to cluster 'staging'",
    ),
    (
        "other-region",
        _edit(lambda d: _move(d, region="eu-west-1")),
        {},
        "belongs to region 'eu-west-1'",
    ),
    (
        "other-account",
        _edit(lambda d: _move(d, accountId="210987654321")),
        {},
        "belongs to account '210987654321'",
    ),
    ("unknown-schema", _edit(lambda d: _move(d, schemaVersion=99)), {}, "schema version 99"),
    (
        "bad-shape",
        _edit(lambda d: d["services"][0].update(schedulingStrategy="MAYBE")),
        {},
        "does not match the schema",
    ),
    (
        "dangling",
        _edit(
            lambda d: d["services"][0].update(
                taskDefinition=d["services"][0]["taskDefinition"].rsplit(":", 1)[0] + ":99"
            )
        ),
        {},
        "not among the taskDefinitions kept",
    ),
    (
        "no-credentials",
        None,
        {
            "AWS_ACCESS_KEY_ID": None,
            "AWS_SECRET_ACCESS_KEY": None,
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_EC2_METADATA_DISABLED": "true",
        },
        "no AWS credentials",
    ),
    (
        "wrong-region",
        None,
        {"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3"},
        "cluster 'shop' not found in region eu-west-3",
    ),
]


@pytest.fixture
def stored(sim: Any, tmp_path: Path) -> tuple[Any, Path, str]:
    """A cluster with two services and one snapshot of it in a file store."""
    sim.create_cluster("shop")
    for name in ("web", "api"):
        sim.create_service(
            "shop",
            name,
            sim.register(
                {
                    "family": name,
                    "containerDefinitions": [{"name": name, "image": f"{name}:1", "memory": 64}],
                }
            ),
        )
    store = tmp_path / "store"
    taken = subprocess.run(
        [ECSUNDO, "cluster", "snapshot", "shop", "--store", f"file://{store}", "--json"],
        env={**sim.env, "PATH": os.environ["PATH"], **measured()},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    path = Path(json.loads(taken.stdout)["snapshot-uri"].removeprefix("file://"))
    return sim, path, f"file://{store}"


def _env(sim: Any, changes: dict[str, str | None]) -> dict[str, str]:
    env = {**sim.env, "PATH": os.environ["PATH"], **measured()}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.mark.parametrize(("case", "spoil", "changes", "reason"), CASES, ids=[c[0] for c in CASES])
def test_cli_refuses(
    stored: tuple[Any, Path, str],
    case: str,
    spoil: Any,
    changes: dict[str, str | None],
    reason: str,
) -> None:
    sim, path, store = stored
    if spoil:
        spoil(path)
    sim.calls.clear()
    proc = subprocess.run(
        [ECSUNDO, "cluster", "restore", "shop", "--store", store],
        env=_env(sim, changes),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc
    assert proc.stderr.count("\n") == 1 and reason in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert sim.mutating_calls() == []


@pytest.mark.parametrize(("case", "spoil", "changes", "reason"), CASES, ids=[c[0] for c in CASES])
def test_action_refuses(
    stored: tuple[Any, Path, str],
    tmp_path: Path,
    case: str,
    spoil: Any,
    changes: dict[str, str | None],
    reason: str,
) -> None:
    sim, path, store = stored
    if spoil:
        spoil(path)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    sim.calls.clear()
    env = _env(sim, changes)
    step = run_step(
        "entrypoint.py",
        defaults(mode="restore", cluster="shop", store=store, snapshot_id="latest"),
        {k: v for k, v in env.items() if k != "PATH"},
        workspace,
    )
    assert step.returncode == 1
    assert len(step.errors) == 1 and reason in step.errors[0], step.stdout
    assert "Traceback" not in step.stdout + step.stderr
    assert sim.mutating_calls() == []


# A command given an option of another command, or an option given an empty value (an unset
# shell variable): refused before any AWS call, never run as something else.
STRICT = [
    (
        ["cluster", "shop", "--snapshot-id", "before-v2"],
        "ecsundo cluster <cluster> takes no --snapshot-id: did you mean ecsundo cluster "
        "restore <cluster> --snapshot-id ... or ecsundo cluster snapshot <cluster> "
        "--snapshot-id ...?",
    ),
    (
        ["cluster", "restore", "shop", "--since", "5"],
        "ecsundo cluster restore <cluster> takes no --since: did you mean ecsundo cluster "
        "<cluster> --since ...?",
    ),
    (
        ["cluster", "snapshot", "shop", "--pin-images", "always"],
        "ecsundo cluster snapshot <cluster> takes no --pin-images",
    ),
    (["cluster", "shop", "--full"], "did you mean ecsundo cluster snapshot <cluster> --full?"),
    (
        ["cluster", "restore", "shop", "--snapshot-id", ""],
        "--snapshot-id: got an empty value; leave the option out for its default (latest)",
    ),
    (["cluster", "shop", "--services", " "], "--services: got an empty value"),
    (["cluster", "restore", "shop", "--store", ""], "--store: got an empty value"),
    # A blank key must not mean "no signature checks": an unset variable would turn them off.
    (
        ["cluster", "restore", "shop", "--signing-key", " "],
        "--signing-key: got an empty value; leave the option out for its default",
    ),
    (
        ["cluster", "shop", "--signing-key", "alias/snapshots"],
        "ecsundo cluster <cluster> takes no --signing-key: did you mean ecsundo cluster "
        "restore <cluster> --signing-key ... or ecsundo cluster snapshot <cluster> "
        "--signing-key ...?",
    ),
    (
        ["cluster", "snapshot", "shop", "--signing-key", "snapshots"],
        "--signing-key: expected a KMS key id, key ARN, alias/NAME or alias ARN, got 'snapshots'",
    ),
]


@pytest.mark.parametrize(("argv", "reason"), STRICT, ids=[" ".join(a) for a, _ in STRICT])
def test_cli_refuses_an_option_its_command_does_not_take_or_an_empty_value(
    stored: tuple[Any, Path, str], argv: list[str], reason: str
) -> None:
    sim, _, _ = stored
    sim.calls.clear()
    proc = subprocess.run(
        [ECSUNDO, *argv], env=_env(sim, {}), capture_output=True, text=True, timeout=120
    )
    assert (proc.returncode, proc.stdout) == (1, ""), proc
    assert proc.stderr == f"ecsundo: error: {reason}\n" or reason in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert sim.calls == []  # not even a read


def test_a_service_arn_of_another_region_is_refused_before_any_call(
    stored: tuple[Any, Path, str],
) -> None:
    """Fleets reuse cluster names across Regions: eu-west-1's shop/web named in a us-east-1
    run must not roll back us-east-1's shop/web."""
    sim, _, _ = stored
    sim.calls.clear()
    other = "arn:aws:ecs:eu-west-1:123456789012:service/shop/web"
    env = _env(sim, {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    for argv in (["service", "-c", "shop", other], ["cluster", "shop", "--services", other]):
        proc = subprocess.run([ECSUNDO, *argv], env=env, capture_output=True, text=True)
        assert proc.returncode == 1, proc
        assert proc.stderr == (
            f"ecsundo: error: {'service' if argv[0] == 'service' else '--services'} entry "
            f"'{other}' is in Region eu-west-1, but this run is in us-east-1\n"
        ), proc.stderr
    assert sim.calls == []


def test_a_service_arn_of_another_account_is_refused_before_any_change(
    stored: tuple[Any, Path, str],
) -> None:
    """The cluster is named, not given as an ARN: its account is known once it is described,
    and the run stops there, before anything changes."""
    sim, _, store = stored
    sim.calls.clear()
    other = f"arn:aws:ecs:{sim.region}:999999999999:service/shop/web"
    for argv in (
        ["cluster", "shop", "--services", other],
        ["cluster", "restore", "shop", "--store", store, "--services", other],
    ):
        proc = subprocess.run([ECSUNDO, *argv], env=_env(sim, {}), capture_output=True, text=True)
        assert proc.returncode == 1, proc
        assert proc.stderr == (
            "ecsundo: error: services: a service ARN is in account 999999999999, but cluster "
            f"shop is in account {sim.account_id}\n"
        ), proc.stderr
    assert [c.operation for c in sim.calls] == ["DescribeClusters"] * 2
