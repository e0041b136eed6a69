"""Signed snapshots: what the MAC covers, and a store that signs what it puts and reads only
what its key verifies, against the simulator's KMS over HTTP. The CLI's and the action's
stories are in test_cli.py and test_action.py."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import EcsGateway
from ecsundo_action.errors import InputError, SigningKeyError, SnapshotRefused
from ecsundo_action.snapshots import document as doc
from ecsundo_action.snapshots.signing import Signer, check_key, key_region, statement
from ecsundo_action.snapshots.stores import FileStore, open_store
from tests.conftest import body, forge, run, signing_key
from tests.test_stores import PROD, make

UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def signer(sim: Any, key: str) -> Signer:
    return Signer(key, sim.region, client=sim.client("kms"))


def stored(sim: Any, tmp_path: Path, key: str | None, snapshot_id: str, when: float) -> Path:
    """A snapshot of PROD put by a store signing with key (None: unsigned), stored at `when`."""
    store = open_store(f"file://{tmp_path}", signer=signer(sim, key) if key else None)
    path = Path(store.put(PROD, make(snapshot_id=snapshot_id)).removeprefix("file://"))
    os.utime(path, (when, when))
    return path


# --- what is MAC'ed ----------------------------------------------------------------------------


def test_the_statement_names_the_snapshot_and_digests_all_it_holds() -> None:
    document = make(snapshot_id="pre").content()
    said = statement(document)
    assert said.startswith(b"ecsundo snapshot signature 1\n")
    assert b'"pre"' in said and PROD.arn.encode() in said and b"us-east-1" in said
    # Sealing and signing add fields the statement leaves out: it is what they are made over.
    assert statement({**document, "checksum": "sha256:0", "signature": {"mac": "x"}}) == said
    changed = [
        {**document, "id": "post"},
        {**document, "region": "eu-west-1"},
        {**document, "accountId": "210987654321"},
        {**document, "cluster": {"name": "prod", "arn": PROD.arn.replace("prod", "stage")}},
        {**document, "schemaVersion": 1},
        json.loads(json.dumps(document).replace('"name": "web"}]', '"name": "evil"}]')),
    ]
    assert len({statement(d) for d in changed} | {said}) == len(changed) + 1
    longest = {**document, "cluster": {"name": "c" * 255, "arn": PROD.arn + "c" * 255}}
    assert len(statement({**longest, "id": "i" * 128})) < 4096  # GenerateMac's limit


@pytest.mark.parametrize(
    "key",
    [
        UUID,
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/ecsundo/snapshots",
        f"arn:aws:kms:eu-west-1:111122223333:key/{UUID}",
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/snapshots",
    ],
)
def test_a_key_is_an_id_an_arn_or_an_alias(key: str) -> None:
    assert check_key(f" {key} ", "--signing-key") == key


@pytest.mark.parametrize(
    "text", ["snapshots", "alias/", "alias/a b", f"arn:aws:kms:eu-west-1:1:key/{UUID}", "key/x"]
)
def test_anything_else_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(InputError) as refused:
        check_key(text, "input 'signing-key'")
    assert str(refused.value) == (
        "input 'signing-key': expected a KMS key id, key ARN, alias/NAME or alias ARN, "
        f"got {text!r}"
    )


def test_kms_is_asked_in_the_region_a_key_arn_names() -> None:
    assert key_region(f"arn:aws:kms:eu-west-1:111122223333:key/{UUID}") == "eu-west-1"
    assert Signer("arn:aws:kms:eu-west-1:111122223333:alias/s", "us-east-1").region == "eu-west-1"
    assert Signer("alias/s", "us-east-1").region == "us-east-1"
    assert key_region(UUID) is None


# --- a store with a signing key ----------------------------------------------------------------


def test_a_signed_snapshot_carries_the_mac_of_the_key_and_reads_back_only_with_it(
    sim: Any, tmp_path: Path
) -> None:
    arn = signing_key(sim, alias="snapshots")
    path = stored(sim, tmp_path, "alias/snapshots", "pre", 1_000)
    written = json.loads(path.read_text())
    signature = written["signature"]
    assert signature["keyId"] == arn and signature["macAlgorithm"] == "HMAC_SHA_256"
    assert written["checksum"] == doc.checksum(written)  # the checksum covers it too
    for key in ("alias/snapshots", arn):
        assert FileStore(tmp_path).get(PROD, "pre") == make(snapshot_id="pre")
        store = open_store(f"file://{tmp_path}", signer=signer(sim, key))
        assert store.get(PROD, "pre") == make(snapshot_id="pre")
    other = open_store(f"file://{tmp_path}", signer=signer(sim, signing_key(sim)))
    with pytest.raises(SnapshotRefused) as refused:
        other.get(PROD, "pre")
    assert str(refused.value) == (
        f"snapshot 'pre' fails its signature check with signing key {other.signer.key!r} "  # type: ignore[union-attr]
        "(changed since it was signed, or signed with another key)"
    )


def test_an_edited_and_resealed_snapshot_passes_its_checksum_but_not_the_key(
    sim: Any, tmp_path: Path
) -> None:
    signing_key(sim, alias="snapshots")
    path = stored(sim, tmp_path, "alias/snapshots", "pre", 1_000)
    forge(path, '"name": "web"}]', '"name": "web", "image": "evil/miner:1"}]')
    [kept] = FileStore(tmp_path).get(PROD, "pre").task_definitions.values()
    assert kept.body["containerDefinitions"][0]["image"] == "evil/miner:1"  # checksum: fine
    store = open_store(f"file://{tmp_path}", signer=signer(sim, "alias/snapshots"))
    with pytest.raises(SnapshotRefused, match=r"^snapshot 'pre' fails its signature check"):
        store.get(PROD, "pre")


def test_an_unsigned_snapshot_is_refused_with_a_key_without_asking_kms(
    sim: Any, tmp_path: Path
) -> None:
    signing_key(sim, alias="snapshots")
    stored(sim, tmp_path, None, "pre", 1_000)
    sim.calls.clear()
    with pytest.raises(SnapshotRefused) as refused:
        open_store(f"file://{tmp_path}", signer=signer(sim, "alias/snapshots")).get(PROD, "pre")
    assert str(refused.value) == (
        "snapshot 'pre' is not signed: with signing key 'alias/snapshots', only snapshots "
        "signed with it are read"
    )
    assert sim.calls == []


def test_a_signed_snapshot_cannot_be_replayed_under_another_id(sim: Any, tmp_path: Path) -> None:
    signing_key(sim, alias="snapshots")
    path = stored(sim, tmp_path, "alias/snapshots", "pre", 1_000)
    copy = path.with_name("post.json")
    shutil.copy(path, copy)
    forge(copy, '"id": "pre"', '"id": "post"')
    store = open_store(f"file://{tmp_path}", signer=signer(sim, "alias/snapshots"))
    with pytest.raises(SnapshotRefused, match=r"^snapshot 'post' fails its signature check"):
        store.get(PROD, "post")


def test_latest_is_the_newest_snapshot_the_key_verifies_and_says_which_it_skipped(
    sim: Any, tmp_path: Path
) -> None:
    signing_key(sim, alias="snapshots")
    stored(sim, tmp_path, "alias/snapshots", "good", 1_000)
    stored(sim, tmp_path, None, "unsigned", 2_000)
    forged = stored(sim, tmp_path, "alias/snapshots", "forged", 3_000)
    forge(forged, '"desiredCount": 2', '"desiredCount": 0')
    assert FileStore(tmp_path).latest(PROD).id == "forged"  # without a key: as before
    store = open_store(f"file://{tmp_path}", signer=signer(sim, "alias/snapshots"))
    found, skipped = store.newest(PROD)
    assert found.id == "good"
    assert [line.split(" ", 2)[:2] for line in skipped] == [
        ["snapshot", "'forged'"],
        ["snapshot", "'unsigned'"],
    ]
    assert "fails its signature check" in skipped[0] and "is not signed" in skipped[1]
    (tmp_path / PROD.account_id / PROD.region / "prod" / "good.json").unlink()
    with pytest.raises(SnapshotRefused) as refused:
        store.newest(PROD)
    assert str(refused.value).startswith(
        f"no snapshot of cluster 'prod' in file://{tmp_path} verifies with signing key "
        "'alias/snapshots': snapshot 'forged' fails its signature check"
    )


# --- KMS's refusals: one line naming the key ------------------------------------------------


def refusal(sim: Any, key: str, verifying: bool) -> str:
    store = open_store("file:///nonexistent", signer=signer(sim, key))
    document = make(snapshot_id="pre").content()
    assert store.signer is not None
    with pytest.raises(SigningKeyError) as refused:
        if verifying:
            document["signature"] = {"keyId": key, "macAlgorithm": "HMAC_SHA_256", "mac": "AA=="}
            store.signer.verify(document, "'pre'")
        else:
            store.signer.sign(document)
    return str(refused.value)


@pytest.mark.parametrize("verifying", [False, True], ids=["GenerateMac", "VerifyMac"])
def test_a_key_kms_will_not_use_is_one_line_naming_it(sim: Any, verifying: bool) -> None:
    operation = "VerifyMac" if verifying else "GenerateMac"
    encrypting = signing_key(sim, "ENCRYPT_DECRYPT")
    assert refusal(sim, encrypting, verifying) == (
        f"signing key {encrypting!r} makes no HMAC_SHA_256 MACs: it must be an HMAC_256 key "
        "(key usage GENERATE_VERIFY_MAC)"
    )
    assert refusal(sim, "alias/none", verifying) == "KMS has no key 'alias/none' in us-east-1"
    disabled = signing_key(sim)
    sim.client("kms").disable_key(KeyId=disabled.rsplit("/", 1)[1])
    assert refusal(sim, disabled, verifying) == f"signing key {disabled!r} is disabled in KMS"
    sim.rules.refusals[(operation, "*")] = "AccessDeniedException"
    allowed = signing_key(sim)
    assert refusal(sim, allowed, verifying) == (
        f"not allowed to use signing key {allowed!r}: this role needs kms:{operation} on it "
        "(see docs/iam-policy.json)"
    )


# --- incremental snapshots --------------------------------------------------------------------


@pytest.fixture
def kms_env(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine makes its KMS client from the environment, as in production."""
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)


def test_an_incremental_snapshot_reuses_no_body_the_key_does_not_verify(
    sim: Any, gateway: EcsGateway, tmp_path: Path, kms_env: None
) -> None:
    signing_key(sim, alias="snapshots")
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web")))
    store = f"file://{tmp_path}"
    first = run(gateway, "snapshot", "shop", store=store, signing_key="alias/snapshots")
    assert first.snapshot is not None and first.snapshot_uri is not None
    forge(Path(first.snapshot_uri.removeprefix("file://")), "shop/web:1", "evil/miner:1")

    def image(outcome: Any) -> str:
        [kept] = outcome.snapshot.task_definitions.values()
        return str(kept.body["containerDefinitions"][0]["image"])

    # Without a key the forged body is carried forward: the attack of issue 23.
    unsigned = run(gateway, "snapshot", "shop", store=store)
    assert image(unsigned) == "evil/miner:1"
    sim.calls.clear()
    signed = run(gateway, "snapshot", "shop", store=store, signing_key="alias/snapshots")
    assert image(signed) == "shop/web:1"
    assert [c.operation for c in sim.calls].count("DescribeTaskDefinition") == 1
    assert [c.operation for c in sim.calls].count("GenerateMac") == 1
    assert unsigned.snapshot is not None
    [warning] = signed.warnings  # neither is reused, and the run says so, naming both
    assert warning.startswith(
        f"no snapshot of cluster 'shop' in {store} verifies with signing key 'alias/snapshots': "
        f"snapshot {unsigned.snapshot.id!r} is not signed"
    )
    assert f"snapshot {first.snapshot.id!r} fails its signature check" in warning
    assert warning.endswith(": a full snapshot")
    # A newer snapshot passed over while an older one verifies: named, and not reused.
    newer = run(gateway, "snapshot", "shop", store=store, full=True)
    assert newer.snapshot is not None
    sim.calls.clear()
    again = run(gateway, "snapshot", "shop", store=store, signing_key="alias/snapshots")
    assert again.warnings == [
        f"snapshot {newer.snapshot.id!r} is not signed: with signing key 'alias/snapshots', "
        "only snapshots signed with it are read: not reused"
    ]
    assert [c.operation for c in sim.calls].count("DescribeTaskDefinition") == 0  # reused
