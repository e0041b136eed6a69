"""The `ecsundo` command as a user runs it: a subprocess, over HTTP, with the S3 store."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.edges.cli import main
from tests.conftest import Terminal, ecsundo, forge, signing_key

BUCKET = "snapshots"


run = ecsundo


def body(family: str, version: str) -> dict[str, Any]:
    return {
        "family": family,
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "containerDefinitions": [
            {
                "name": family,
                "image": f"shop/{family}:{version}",
                "memory": 256,
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2-secret"}],
            }
        ],
    }


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    for name in ["web", "api"]:
        sim.create_service("shop", name, sim.register(body(name, "1")))
    sim.client("s3").create_bucket(Bucket=BUCKET)
    return sim


def test_snapshot_bad_deploy_restore_with_s3_store(shop: Any) -> None:
    ecs = shop.client("ecs")
    store = f"s3://{BUCKET}/ecsundo"

    taken = run(shop, "cluster", "snapshot", "shop", "--store", store, "--json")
    assert taken.returncode == 0, taken.stderr
    snap = json.loads(taken.stdout)
    assert [s["name"] for s in snap["services"]] == ["api", "web"]
    assert snap["snapshot-uri"] == (
        f"s3://{BUCKET}/ecsundo/{shop.account_id}/{shop.region}/shop/{snap['snapshot-id']}.json"
    )
    puts = [c for c in shop.calls if c.operation == "PutObject"]
    assert len(puts) == 1 and puts[0].params["ServerSideEncryption"] == "AES256"

    for name in ["web", "api"]:
        new = shop.register(body(name, "2"))
        ecs.update_service(cluster="shop", service=name, taskDefinition=new)
        ecs.deregister_task_definition(taskDefinition=f"{name}:1")
    ecs.delete_task_definitions(taskDefinitions=["api:1"])

    listed = run(shop, "snapshots", "-c", "shop", "--store", store)
    assert listed.stdout.split() == [snap["snapshot-id"]]

    restored = run(shop, "cluster", "restore", "shop", "--store", store, "--poll-interval", "0.1")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    lines = restored.stdout.splitlines()
    assert lines[-1] == "result: success"
    assert any(
        line.startswith("api") and "re-register" in line and "success" in line for line in lines
    )
    for name in ["web", "api"]:
        running = ecs.describe_services(cluster="shop", services=[name])["services"][0]
        image = ecs.describe_task_definition(taskDefinition=running["taskDefinition"])
        assert image["taskDefinition"]["containerDefinitions"][0]["image"] == f"shop/{name}:1"
    # Task-definition environment values never reach the terminal.
    for proc in (taken, listed, restored):
        assert "hunter2" not in proc.stdout + proc.stderr

    again = run(shop, "cluster", "restore", "shop", "--store", store, "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["result"] == "unchanged"


def test_service_rollback_and_help(shop: Any) -> None:
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2"))
    )
    rolled = run(shop, "service", "-c", "shop", "web", "--poll-interval", "0.1", "--json")
    assert rolled.returncode == 0, rolled.stderr
    out = json.loads(rolled.stdout)
    assert [s["name"] for s in out["services"]] == ["web"]
    assert out["services"][0]["to"].endswith("task-definition/web:1")
    helped = run(shop, "help")
    assert helped.returncode == 0 and "cluster" in helped.stdout and "snapshots" in helped.stdout


def test_a_named_service_is_rolled_back_whatever_the_window(shop: Any) -> None:
    """--since picks services only when none are named (it used to apply to named ones:
    a service deployed two hours ago was silently left alone, exit 0)."""
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2"))
    )
    for name in ("web", "api"):
        shop.age_deployments(name, hours=2, cluster="shop")
    window = run(shop, "cluster", "shop", "--dry-run", "--json")
    assert {s["name"]: s["status"] for s in json.loads(window.stdout)["services"]} == {
        "api": "unchanged",
        "web": "unchanged",
    }
    named = run(shop, "cluster", "shop", "--services", "web", "--poll-interval", "0.1", "--json")
    assert named.returncode == 0, named.stderr
    [web] = json.loads(named.stdout)["services"]
    assert web["status"] == "success" and web["to"].endswith("task-definition/web:1")


def restarted_and_rolled_back_by_ecs(sim: Any) -> None:
    """web and api released hours ago; the bad deploy restarted api (same task definition,
    same build) and put web:3 out, which ECS's circuit breaker took back to web:2."""
    ecs = sim.client("ecs")
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "2")))
    for name in ("web", "api"):
        sim.age_deployments(name, hours=3, cluster="shop")
    ecs.update_service(cluster="shop", service="api", forceNewDeployment=True)
    sim.rules.outcomes["web"] = "circuit-breaker"
    ecs.update_service(cluster="shop", service="web", taskDefinition=sim.register(body("web", "3")))
    sim.rules.outcomes.clear()
    sim.calls.clear()


@pytest.mark.parametrize("history", [True, False], ids=["history", "revisions"])
def test_a_restart_or_ecs_own_rollback_is_never_rolled_back_one_release_too_far(
    shop: Any, history: bool
) -> None:
    """Issue 23's first sequence, whole-cluster, with ECS's history and without: both
    services already run the release before the bad deploy, so both are unchanged."""
    restarted_and_rolled_back_by_ecs(shop)
    shop.rules.history = history

    rolled = run(shop, "cluster", "shop", "--since", "60", "--json")

    assert rolled.returncode == 0, rolled.stderr
    out = json.loads(rolled.stdout)
    rows = {s["name"]: (s["status"], s["to"].rsplit("/", 1)[1]) for s in out["services"]}
    assert out["result"] == "unchanged"
    assert rows == {"api": ("unchanged", "api:1"), "web": ("unchanged", "web:2")}
    assert shop.mutating_calls() == []


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["cluster", "restore", "nope"], "cluster 'nope' not found"),
        (
            ["cluster", "restore", "shop", "--snapshot-id", "20200101T000000000Z-abcdef"],
            "snapshot '20200101T000000000Z-abcdef' not found",
        ),
        (
            ["cluster", "restore", "shop", "--snapshot-id", "../../etc/passwd"],
            "--snapshot-id '../../etc/passwd' is not valid",
        ),
        (
            ["cluster", "restore", "shop", "--store", "ftp://x"],
            "--store 'ftp://x' is not supported",
        ),
        (["cluster", "snapshot", "shop", "--services", "web,nope"], "'nope' matches no service"),
        (["cluster", "restore", "shop", "--timeout", "soon"], "--timeout: expected a number"),
        (["cluster", "restore", "bad/name!"], "cluster 'bad/name!' is not valid"),
        (["cluster", "frobnicate", "shop"], "expected: ecsundo cluster [snapshot|restore]"),
        (["dance"], "invalid choice"),
        (["cluster", "restore", "shop"], "no snapshot of cluster 'shop'"),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    shop: Any, tmp_path: Path, args: list[str], reason: str
) -> None:
    shop.calls.clear()
    proc = run(shop, *args, cwd=tmp_path)
    assert proc.returncode == 1, proc
    assert proc.stderr.count("\n") == 1 and reason in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert shop.mutating_calls() == []


# Every operand of every verb, blank or spaces: an unset shell variable must never widen what a
# command touches (`ecsundo service -c prod "$SVC"` rolling back every service of prod).
BLANK_OPERANDS = [(["cluster", blank], "cluster: required") for blank in ("", " ")] + [
    (["cluster", "snapshot", ""], "cluster: required"),
    (["cluster", "restore", " "], "cluster: required"),
    (["cluster", "--cluster", ""], "cluster: required"),
    (["cluster", "restore", "--cluster", "\t"], "cluster: required"),
    (["service", "-c", "", "web"], "cluster: required"),
    (["service", "-c", "prod", ""], "service '': expected one service name"),
    (["service", "-c", "prod", " "], "service ' ': expected one service name"),
    (["service", "-c", "prod", ","], "service ',': expected one service name"),
    (["snapshots", "-c", ""], "cluster: required"),
    (["snapshots", "-c", " "], "cluster: required"),
    (["clusters", ""], "required"),
    (["clusters", " "], "required"),
]


@pytest.mark.parametrize(("args", "reason"), BLANK_OPERANDS, ids=repr)
def test_a_blank_operand_at_any_verb_is_refused_before_any_call(
    sim: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    reason: str,
) -> None:
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)
    sim.calls.clear()
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and reason in err, err
    assert sim.calls == []  # not even a read


LONG = "checkout-" + "x" * 90  # a 99-character service name


@pytest.mark.parametrize("tty", [False, True], ids=["piped", "terminal"])
def test_result_rows_are_cut_to_a_terminal_s_width_and_never_when_piped(
    sim: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tty: bool
) -> None:
    sim.create_cluster("shop")
    sim.create_service("shop", LONG, sim.register(body(LONG, "1")))
    for name, value in {**sim.env, "COLUMNS": "40"}.items():
        monkeypatch.setenv(name, value)
    store = f"file://{tmp_path}"
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert main(["cluster", "snapshot", "shop", "--store", store]) == 0
    sim.client("ecs").update_service(
        cluster="shop", service=LONG, taskDefinition=sim.register(body(LONG, "2"))
    )
    out = Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["cluster", "restore", "shop", "--store", store, "--snapshot-id", "latest"]) == 0
    rows = [line for line in out.getvalue().splitlines() if line.startswith(("SERVICE", "chec"))]
    assert len(rows) == 2, out.getvalue()
    if tty:
        assert [len(row) for row in rows] == [40, 40] and rows[1].endswith("…"), rows
    else:  # piped or logged: a log or a grep needs the whole row
        assert rows[1].startswith(LONG) and "rollout completed" in rows[1], rows


def test_tampered_and_truncated_snapshots_are_refused(shop: Any, tmp_path: Path) -> None:
    store = f"file://{tmp_path}"
    taken = json.loads(run(shop, "cluster", "snapshot", "shop", "--store", store, "--json").stdout)
    path = Path(taken["snapshot-uri"].removeprefix("file://"))
    original = path.read_text()
    path.write_text(original.replace("shop/web:1", "evil/web:1"))
    shop.calls.clear()
    tampered = run(shop, "cluster", "restore", "shop", "--store", store)
    assert tampered.returncode == 1 and "fails its checksum" in tampered.stderr
    path.write_text(original[: len(original) // 2])
    truncated = run(shop, "cluster", "restore", "shop", "--store", store)
    assert truncated.returncode == 1 and "not valid JSON" in truncated.stderr
    assert shop.mutating_calls() == []


def test_s3_store_with_a_kms_key_asks_for_it_on_every_write(shop: Any) -> None:
    store = f"s3://{BUCKET}/ecsundo?kms-key-id=alias/ecsundo-snapshots"
    shop.calls.clear()
    taken = run(shop, "cluster", "snapshot", "shop", "--store", store, "--json")
    assert taken.returncode == 0, taken.stderr
    [put] = [c.params for c in shop.calls if c.operation == "PutObject"]
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == "alias/ecsundo-snapshots"
    assert put["IfNoneMatch"] == "*"  # never overwrites a snapshot


def test_the_result_table_fits_a_terminal_and_is_whole_when_piped() -> None:
    from ecsundo_action.aws.records import ContainerImage
    from ecsundo_action.render.text import text
    from ecsundo_action.result import Outcome, ServiceResult, Status

    long = ServiceResult(
        "web",
        "update",
        None,
        None,
        Status.FAILED,
        3.0,
        "rollout FAILED: " + "why " * 40,
        before=(ContainerImage("web", "acme/web:1.5.0"), ContainerImage("log", "fluent:2")),
        after=(ContainerImage("web", "acme/web:1.4.2"), ContainerImage("log", "fluent:2")),
        what="tried to update to web:1",
    )
    outcome = Outcome("restore", "prod", services=[long], timings={"total": 5.0, "read": 1.0})
    cut = text(outcome, width=80)
    assert all(len(line) <= 80 for line in cut.splitlines()), cut
    row = next(line for line in cut.splitlines() if line.startswith("web "))
    assert "web:1.5.0 (+1 more)" in row and "web:1.4.2 (+1 more)" in row and row.endswith("…")
    assert "took 5s: read 1s" in cut
    whole = text(outcome)
    assert "why " * 40 in whole  # piped or logged: nothing is cut


# --- signed snapshots (--signing-key): the store is not trusted --------------------------------


def test_a_signed_snapshot_restores_with_its_key_and_an_edited_resealed_one_never(
    shop: Any, tmp_path: Path
) -> None:
    key = signing_key(shop, alias="snapshots")
    store, signed = f"file://{tmp_path}", ["--signing-key", "alias/snapshots"]
    taken = run(shop, "cluster", "snapshot", "shop", "--store", store, *signed, "--json")
    assert taken.returncode == 0, taken.stderr
    snapshot_id = json.loads(taken.stdout)["snapshot-id"]
    path = Path(json.loads(taken.stdout)["snapshot-uri"].removeprefix("file://"))
    assert json.loads(path.read_text())["signature"]["keyId"] == key
    ecs = shop.client("ecs")
    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "2"))
    )

    restored = run(shop, "cluster", "restore", "shop", "--store", store, *signed)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "VerifyMac" in [c.operation for c in shop.calls]

    ecs.update_service(
        cluster="shop", service="web", taskDefinition=shop.register(body("web", "3"))
    )
    forge(path, '"image": "shop/web:1"', '"image": "evil/miner:1"')
    shop.calls.clear()
    refused = run(shop, "cluster", "restore", "shop", "--store", store, *signed)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"ecsundo: error: no snapshot of cluster 'shop' in {store} verifies with signing key "
        f"'alias/snapshots': snapshot '{snapshot_id}' fails its signature check with signing "
        "key 'alias/snapshots' (changed since it was signed, or signed with another key)\n"
    )
    by_id = run(
        shop, "cluster", "restore", "shop", "--store", store, *signed, "--snapshot-id", snapshot_id
    )
    assert by_id.returncode == 1 and by_id.stderr == (
        f"ecsundo: error: snapshot '{snapshot_id}' fails its signature check with signing key "
        "'alias/snapshots' (changed since it was signed, or signed with another key)\n"
    )
    assert shop.mutating_calls() == []
    running = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
    assert running["taskDefinition"].endswith("web:3")  # nothing changed in ECS
    # Without a key, the checksum alone lets the forged document through: what the key is for.
    unsigned = run(shop, "cluster", "restore", "shop", "--store", store, "--dry-run")
    assert unsigned.returncode == 0, unsigned.stderr


def test_latest_with_a_key_passes_over_newer_unsigned_snapshots_saying_so(
    shop: Any, tmp_path: Path
) -> None:
    signing_key(shop, alias="snapshots")
    store, signed = f"file://{tmp_path}", ["--signing-key", "alias/snapshots"]
    good = run(shop, "cluster", "snapshot", "shop", "--store", store, *signed, "--json")
    unsigned = run(shop, "cluster", "snapshot", "shop", "--store", store, "--json")
    good_id, unsigned_id = (json.loads(p.stdout)["snapshot-id"] for p in (good, unsigned))
    refused = run(
        shop, "cluster", "restore", "shop", "--store", store, *signed, "--snapshot-id", unsigned_id
    )
    assert refused.returncode == 1 and refused.stderr == (
        f"ecsundo: error: snapshot '{unsigned_id}' is not signed: with signing key "
        "'alias/snapshots', only snapshots signed with it are read\n"
    )
    latest = run(shop, "cluster", "restore", "shop", "--store", store, *signed)
    assert latest.returncode == 0, latest.stderr
    assert good_id in latest.stdout.splitlines()[0], latest.stdout
    assert (
        f"warning: snapshot '{unsigned_id}' is not signed: with signing key 'alias/snapshots', "
        "only snapshots signed with it are read: skipped (latest is the newest one the key "
        "verifies)"
    ) in latest.stdout.splitlines()


@pytest.mark.parametrize("problem", ["another key", "encrypting key", "disabled key", "no key"])
def test_a_key_that_cannot_sign_or_verify_is_one_line_and_changes_nothing(
    shop: Any, tmp_path: Path, problem: str
) -> None:
    store = f"file://{tmp_path}"
    signing_key(shop, alias="snapshots")
    taken = run(
        shop, "cluster", "snapshot", "shop", "--store", store, "--signing-key", "alias/snapshots"
    )
    assert taken.returncode == 0, taken.stderr
    key = {
        "another key": lambda: signing_key(shop),
        "encrypting key": lambda: signing_key(shop, "ENCRYPT_DECRYPT"),
        "disabled key": lambda: signing_key(shop, alias="off"),
        "no key": lambda: "alias/none",
    }[problem]()
    if problem == "disabled key":
        shop.client("kms").disable_key(KeyId=key.rsplit("/", 1)[1])
    said = {
        "another key": f"fails its signature check with signing key {key!r}",
        "encrypting key": f"signing key {key!r} makes no HMAC_SHA_256 MACs",
        "disabled key": f"signing key {key!r} is disabled in KMS",
        "no key": "KMS has no key 'alias/none' in us-east-1",
    }[problem]
    shop.calls.clear()
    for command in ("restore", "snapshot"):
        proc = run(shop, "cluster", command, "shop", "--store", store, "--signing-key", key)
        if command == "snapshot" and problem == "another key":
            assert proc.returncode == 0, proc.stderr  # a new key signs; the old base is not reused
            continue
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
        assert said in proc.stderr and "Traceback" not in proc.stderr
    assert [c for c in shop.mutating_calls() if c.service != "kms"] == []
