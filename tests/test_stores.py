"""Stores and snapshot documents: what is written, and what is refused when read back.

The S3 store, proven by what ends up in the bucket (not by the request's parameters):
an existing snapshot is never overwritten, a missing one is "not found", a renamed one is
refused, and S3's refusals are one line. Through `ecsundo`, over HTTP to the simulator's S3."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecsundo_action.aws.records import Cluster
from ecsundo_action.errors import InputError, NotFoundError, SnapshotRefused, StoreError
from ecsundo_action.snapshots import document as doc
from ecsundo_action.snapshots.stores import (
    LATEST,
    FileStore,
    S3Store,
    check_snapshot_id,
    default_store_uri,
    new_snapshot_id,
    open_store,
)
from simulator import Rules
from tests.conftest import body, ecsundo

PROD = Cluster(
    "prod", "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "123456789012", "us-east-1"
)
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"


def make(cluster: Cluster = PROD, snapshot_id: str | None = None) -> doc.Snapshot:
    return doc.Snapshot.from_json(
        doc.seal(
            {
                "schemaVersion": 1,
                "id": snapshot_id or new_snapshot_id(),
                "createdAt": "2026-11-27T16:00:00.000Z",
                "tool": "ecsundo test",
                "cluster": {"name": cluster.name, "arn": cluster.arn},
                "region": cluster.region,
                "accountId": cluster.account_id,
                "services": [
                    {
                        "name": "web",
                        "arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
                        "taskDefinition": TD,
                        "desiredCount": 2,
                        "schedulingStrategy": "REPLICA",
                    }
                ],
                "taskDefinitions": {
                    TD: {
                        "status": "ACTIVE",
                        "body": {"family": "web", "containerDefinitions": [{"name": "web"}]},
                        "tags": [],
                    }
                },
            }
        )
    )


def test_file_store_round_trip_owner_only_and_never_overwrites(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    document = make()
    uri = store.put(PROD, document)
    path = Path(uri.removeprefix("file://"))
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # Readable: plain indented JSON a person can open.
    assert json.loads(path.read_text())["services"][0]["name"] == "web"
    assert store.get(PROD, document.id) == document
    with pytest.raises(StoreError, match="already exists"):
        store.put(PROD, document)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]


def test_latest_is_the_newest_of_that_cluster_only(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    other = Cluster("staging", PROD.arn.replace("prod", "staging"), PROD.account_id, PROD.region)
    old = make(snapshot_id="20260102T000000000Z-bbbbbb")
    new = make(snapshot_id="before-v2")  # an explicit id: newest by time, not by name
    store.put(PROD, old)
    store.put(PROD, new)
    store.put(other, make(other, snapshot_id="20270101T000000000Z-cccccc"))
    assert store.list(PROD) == [old.id, new.id]
    assert store.latest(PROD).id == new.id
    with pytest.raises(NotFoundError, match="no snapshot of cluster 'prod'"):
        FileStore(tmp_path / "empty").latest(PROD)


@pytest.mark.parametrize(
    "bad_id", ["../etc/passwd", "a/b", "..", ".hidden", "x" * 129, "a b", "", "id\n", "é", "latest"]
)
def test_ids_with_traversal_or_odd_characters_are_refused(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(InputError, match="snapshot-id"):
        FileStore(tmp_path).get(PROD, bad_id)


def test_ids_sort_by_time() -> None:
    from datetime import UTC, datetime

    early = new_snapshot_id(datetime(2026, 1, 1, tzinfo=UTC))
    late = new_snapshot_id(datetime(2026, 1, 1, 0, 0, 0, 2000, tzinfo=UTC))
    assert early < late


def _stored(tmp_path: Path) -> tuple[FileStore, Path, doc.Snapshot]:
    store = FileStore(tmp_path)
    document = make()
    return store, Path(store.put(PROD, document).removeprefix("file://")), document


def _rewrite(path: Path, data: bytes) -> None:
    os.chmod(path, 0o600)
    path.write_bytes(data)


def test_tampered_document_is_refused(tmp_path: Path) -> None:
    store, path, document = _stored(tmp_path)
    tampered = json.loads(path.read_text())
    tampered["services"][0]["taskDefinition"] = TD.replace(":3", ":4")
    _rewrite(path, json.dumps(tampered).encode())
    with pytest.raises(SnapshotRefused, match="fails its checksum"):
        store.get(PROD, document.id)


def test_truncated_document_is_refused(tmp_path: Path) -> None:
    store, path, document = _stored(tmp_path)
    _rewrite(path, path.read_bytes()[:200])
    with pytest.raises(SnapshotRefused, match="not valid JSON"):
        store.get(PROD, document.id)


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    store, path, document = _stored(tmp_path)
    future = json.loads(path.read_text())
    future["schemaVersion"] = 4
    future["checksum"] = doc.checksum(future)
    _rewrite(path, json.dumps(future).encode())
    with pytest.raises(SnapshotRefused, match="schema version 4"):
        store.get(PROD, document.id)


def test_document_with_a_valid_checksum_but_bad_shape_is_refused(tmp_path: Path) -> None:
    store, path, document = _stored(tmp_path)
    bad = json.loads(path.read_text())
    bad["services"][0]["desiredCount"] = -1
    bad["checksum"] = doc.checksum(bad)
    _rewrite(path, json.dumps(bad).encode())
    with pytest.raises(SnapshotRefused, match="does not match the schema"):
        store.get(PROD, document.id)


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [("accountId", "210987654321", "account"), ("region", "eu-west-1", "region")],
)
def test_document_of_another_account_or_region_is_refused(
    tmp_path: Path, field: str, value: str, what: str
) -> None:
    store, path, document = _stored(tmp_path)
    foreign = json.loads(path.read_text())
    foreign[field] = value
    foreign["checksum"] = doc.checksum(foreign)
    _rewrite(path, json.dumps(foreign).encode())
    with pytest.raises(SnapshotRefused, match=f"belongs to {what}"):
        store.get(PROD, document.id)


def test_document_of_another_cluster_is_refused(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    staging = make(
        Cluster("staging", PROD.arn.replace("prod", "staging"), PROD.account_id, PROD.region)
    )
    # Copied by hand into prod's folder: still refused.
    folder = tmp_path / FileStore.folder(PROD)
    folder.mkdir(parents=True)
    (folder / f"{staging.id}.json").write_bytes(doc.dumps(staging.to_json()))
    with pytest.raises(SnapshotRefused, match="belongs to cluster 'staging'"):
        store.get(PROD, staging.id)


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "prod",
        "http://x",
        "file://",
        "s3://",
        "s3://UPPER/x",
        "s3://b/../x",
        "s3://bucket/p?sse=no",
        "ftp://host/x",
        "s3://ab",
        "s3://[bucket/x",
        "file://[x",
    ],
)
def test_unsupported_store_uris_are_refused(uri: str) -> None:
    with pytest.raises(InputError, match="store"):
        open_store(uri)


def test_store_uris() -> None:
    assert isinstance(open_store("file://.ecsundo"), FileStore)
    assert open_store("file:///tmp/x").root == Path("/tmp/x")
    s3 = open_store("s3://my-bucket/ecsundo/prod?kms-key-id=alias/snapshots")
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.prefix, s3.kms_key_id) == ("my-bucket", "ecsundo/prod", "alias/snapshots")


# --- ids --------------------------------------------------------------------------------------


def test_a_new_id_is_the_utc_millisecond_then_six_random_hex_digits() -> None:
    at = datetime(2026, 11, 27, 17, 26, 0, 123999, timezone(timedelta(hours=1)))
    ids = {new_snapshot_id(at) for _ in range(5)}
    assert all(re.fullmatch(r"20261127T162600123Z-[0-9a-f]{6}", i) for i in ids), ids
    assert len(ids) > 1  # random, not a counter or a constant
    assert new_snapshot_id(datetime(2026, 1, 2, 3, 4, 5, 7000, UTC)).startswith(
        "20260102T030405007Z-"
    )
    before = datetime.now(UTC).replace(microsecond=0)
    now = new_snapshot_id()
    after = datetime.now(UTC)
    taken = datetime.strptime(now[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    assert before <= taken <= after, now
    assert re.fullmatch(r"\d{8}T\d{9}Z-[0-9a-f]{6}", now)


def test_new_ids_are_utc_whatever_the_local_time_zone(tokyo: None) -> None:
    at = datetime(2026, 11, 27, 17, 26, 0, 123000, timezone(timedelta(hours=1)))
    assert new_snapshot_id(at).startswith("20261127T162600123Z-")
    before = datetime.now(UTC).replace(microsecond=0)
    taken = datetime.strptime(new_snapshot_id()[:15], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    assert before <= taken <= datetime.now(UTC)


@pytest.mark.parametrize("good", ["a", "9", "x" * 128, "before-v2", "a.b_c-D", "20261127T1Z-ab"])
def test_valid_ids_are_returned_as_they_are(good: str) -> None:
    assert check_snapshot_id(good) == good


def test_the_reserved_id_is_refused_by_name() -> None:
    with pytest.raises(InputError) as excinfo:
        check_snapshot_id("latest", "--snapshot-id")
    assert str(excinfo.value) == "--snapshot-id 'latest' is reserved: it names the newest snapshot"
    with pytest.raises(InputError, match=r"^snapshot-id 'latest' is reserved"):
        check_snapshot_id(LATEST)


@pytest.mark.parametrize("bad", ["a..b", "-a", "_a", "a/b", "x" * 129, "a\nb"])
def test_an_invalid_id_is_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(InputError) as excinfo:
        check_snapshot_id(bad, "input snapshot-id")
    assert str(excinfo.value) == (
        f"input snapshot-id {bad[:80]!r} is not valid: expected up to 128 letters, digits, "
        "'.', '_' or '-', starting with a letter or digit (no '/', no '..')"
    )


def test_a_long_invalid_id_is_shown_cut_to_80_characters() -> None:
    with pytest.raises(InputError) as excinfo:
        check_snapshot_id("y" * 200 + "/")
    assert str(excinfo.value).startswith(f"snapshot-id '{'y' * 80}' is not valid: ")


# --- the file store ---------------------------------------------------------------------------


def test_keys_are_account_region_cluster_then_id(tmp_path: Path) -> None:
    assert FileStore.folder(PROD) == "123456789012/us-east-1/prod"
    assert FileStore(tmp_path).key(PROD, "pre") == "123456789012/us-east-1/prod/pre.json"
    with pytest.raises(InputError, match=r"^snapshot-id '\.\./x' is not valid"):
        FileStore(tmp_path).key(PROD, "../x")


def test_put_writes_the_sealed_document_and_returns_its_absolute_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = FileStore("snaps")
    assert store.uri == "file://snaps"
    document = make(snapshot_id="pre")
    uri = store.put(PROD, document)
    path = tmp_path / "snaps" / "123456789012" / "us-east-1" / "prod" / "pre.json"
    assert uri == f"file://{path}"
    assert path.read_bytes() == doc.dumps(document.to_json())
    assert sorted(p.name for p in path.parent.iterdir()) == ["pre.json"]


def test_a_snapshot_being_written_is_not_listed_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path)
    store.put(PROD, make(snapshot_id="first"))
    seen: list[list[str]] = []
    fsync = os.fsync

    def listing_then_fsync(fd: int) -> None:  # another process lists mid-write
        seen.append(store.list(PROD))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", listing_then_fsync)
    store.put(PROD, make(snapshot_id="second"))
    assert seen == [["first"]]
    assert sorted(store.list(PROD)) == ["first", "second"]


def test_the_system_temporary_folder_plays_no_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The document is staged beside its final name (an atomic link on the same disk),
    # wherever TMPDIR points, even at nothing.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-tmp"))
    store = FileStore(tmp_path / "store")
    taken = make(snapshot_id="pre")
    store.put(PROD, taken)
    assert store.get(PROD, "pre") == taken


def test_an_existing_snapshot_file_is_refused_by_name_and_kept(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    first = make(snapshot_id="pre")
    path = Path(store.put(PROD, first).removeprefix("file://"))
    kept = path.read_bytes()
    with pytest.raises(StoreError) as excinfo:
        store.put(PROD, make(snapshot_id="pre"))
    assert str(excinfo.value) == f"snapshot pre.json already exists in file://{tmp_path}"
    assert path.read_bytes() == kept
    assert [p.name for p in path.parent.iterdir()] == ["pre.json"]


def test_put_refuses_a_snapshot_of_another_cluster_and_writes_nothing(tmp_path: Path) -> None:
    staging = Cluster("staging", PROD.arn.replace("prod", "staging"), PROD.account_id, PROD.region)
    with pytest.raises(SnapshotRefused) as excinfo:
        FileStore(tmp_path).put(PROD, make(staging, snapshot_id="pre"))
    assert str(excinfo.value) == "snapshot pre belongs to cluster 'staging', not 'prod'"
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_store_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = FileStore(blocker)
    with pytest.raises(StoreError) as excinfo:
        store.put(PROD, make(snapshot_id="pre"))
    assert str(excinfo.value) == f"cannot write to file://{blocker}: Not a directory"


def test_an_unreadable_snapshot_is_one_line(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    (tmp_path / store.key(PROD, "pre")).mkdir(parents=True)
    with pytest.raises(StoreError) as excinfo:
        store.get(PROD, "pre")
    assert str(excinfo.value) == (
        f"cannot read file://{tmp_path}/123456789012/us-east-1/prod/pre.json: Is a directory"
    )


def test_a_missing_snapshot_is_not_found_naming_the_store(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.put(PROD, make(snapshot_id="pre"))
    with pytest.raises(NotFoundError) as excinfo:
        store.get(PROD, "post")
    assert (
        str(excinfo.value) == f"snapshot 'post' not found for cluster 'prod' in file://{tmp_path}"
    )


def test_get_names_the_id_asked_for_in_its_refusals(tmp_path: Path) -> None:
    store, path, document = _stored(tmp_path)
    copy = path.with_name("copy.json")
    copy.write_bytes(path.read_bytes())
    with pytest.raises(SnapshotRefused) as excinfo:
        store.get(PROD, "copy")
    assert str(excinfo.value) == f"snapshot 'copy' carries id {document.id!r} (renamed or copied)"
    _rewrite(path, path.read_bytes().replace(b'"web"', b'"www"', 1))
    with pytest.raises(SnapshotRefused) as excinfo:
        store.get(PROD, document.id)
    assert str(excinfo.value) == (
        f"snapshot {document.id!r} fails its checksum (modified or corrupted)"
    )


def test_get_names_the_id_asked_for_when_the_owner_differs(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    other = Cluster("prod", PROD.arn, PROD.account_id, "eu-west-1")
    taken = make(other, snapshot_id="pre")
    target = tmp_path / store.key(PROD, "pre")
    target.parent.mkdir(parents=True)
    target.write_bytes(doc.dumps(taken.to_json()))
    with pytest.raises(SnapshotRefused) as excinfo:
        store.get(PROD, "pre")
    assert str(excinfo.value) == "snapshot 'pre' belongs to region 'eu-west-1', not 'us-east-1'"


def _at(store: FileStore, snapshot_id: str, when: float) -> None:
    path = Path(store.put(PROD, make(snapshot_id=snapshot_id)).removeprefix("file://"))
    os.utime(path, (when, when))


def test_list_is_by_stored_time_then_id_and_skips_what_is_not_a_snapshot(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    _at(store, "zulu", 1_000)
    _at(store, "alpha", 3_000)
    _at(store, "mike", 2_000)
    _at(store, "bravo", 2_000)  # same time as mike: by id
    folder = tmp_path / store.folder(PROD)
    for name in (".tmp-abc.json", "notes.txt", "bad id.json", "-dash.json"):
        (folder / name).write_text("{}")
    assert store.list(PROD) == ["zulu", "bravo", "mike", "alpha"]
    assert store.latest(PROD).id == "alpha"
    assert store.load(PROD, LATEST).snapshot.id == "alpha"
    assert store.load(PROD, "mike").snapshot.id == "mike"
    # The primitive lists every visible .json file; list() drops the names no id can have.
    stored = dict((i, t) for t, i in store._ids(store.folder(PROD)))
    assert sorted(stored) == ["-dash", "alpha", "bad id", "bravo", "mike", "zulu"]
    assert (stored["zulu"], stored["bravo"], stored["alpha"]) == (1_000.0, 2_000.0, 3_000.0)


def test_load_of_an_unknown_id_is_not_found(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    _at(store, "pre", 1_000)
    with pytest.raises(NotFoundError, match=r"^snapshot 'post' not found"):
        store.load(PROD, "post")


def test_latest_of_a_cluster_without_snapshots_names_cluster_region_account_and_store(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path)
    assert store.list(PROD) == []
    with pytest.raises(NotFoundError) as excinfo:
        store.load(PROD, LATEST)
    assert str(excinfo.value) == (
        f"no snapshot of cluster 'prod' (us-east-1, account 123456789012) in file://{tmp_path}"
    )


# --- store URIs -------------------------------------------------------------------------------

EXPECTED = "expected file://DIR or s3://BUCKET/PREFIX"


@pytest.mark.parametrize(
    ("uri", "root"),
    [
        ("file:///var/snaps", "/var/snaps"),
        ("file://.ecsundo", ".ecsundo"),
        ("file://relative/dir", "relative/dir"),
        ("  file:///padded\n", "/padded"),
    ],
)
def test_file_store_uris_name_their_folder(uri: str, root: str) -> None:
    store = open_store(uri)
    assert isinstance(store, FileStore)
    assert store.root == Path(root)
    assert store.uri == f"file://{root}"


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix", "kms", "shown"),
    [
        ("s3://my-bucket", "my-bucket", "", None, "s3://my-bucket"),
        ("s3://abc/", "abc", "", None, "s3://abc"),
        ("s3://b.c-d/a/b/", "b.c-d", "a/b", None, "s3://b.c-d/a/b"),
        ("s3://bkt/a..b/c", "bkt", "a..b/c", None, "s3://bkt/a..b/c"),
        ("s3://bkt/p?kms-key-id=arn:aws:kms:k", "bkt", "p", "arn:aws:kms:k", "s3://bkt/p"),
        ("s3://" + "b" * 63 + "/p", "b" * 63, "p", None, "s3://" + "b" * 63 + "/p"),
    ],
)
def test_s3_store_uris_name_bucket_prefix_and_key(
    uri: str, bucket: str, prefix: str, kms: str | None, shown: str
) -> None:
    store = open_store(uri)
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.kms_key_id, store.uri) == (bucket, prefix, kms, shown)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("file://", f"is not valid: {EXPECTED}"),
        ("file:///x?mode=1", f"is not valid: {EXPECTED}"),
        ("file:///x#top", f"is not valid: {EXPECTED}"),
        ("s3://ab/x", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://" + "b" * 64 + "/x", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://-bkt/x", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://bkt-/x", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://bkt/a b", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://bkt/x#frag", f"is not valid: {EXPECTED} (a valid bucket name)"),
        ("s3://bkt/x?sse=no", "is not valid: the only query option is ?kms-key-id=KEY"),
        ("s3://bkt/x?kms-key-id=", "is not valid: the only query option is ?kms-key-id=KEY"),
        ("s3://bkt/x?kms-key-id", "is not valid: the only query option is ?kms-key-id=KEY"),
        (
            "s3://bkt/x?kms-key-id=a&kms-key-id=b",
            "is not valid: the only query option is ?kms-key-id=KEY",
        ),
        (
            "s3://bkt/x?kms-key-id=a&sse=b",
            "is not valid: the only query option is ?kms-key-id=KEY",
        ),
        ("s3://bkt/a/../b", "is not valid: '..' in the prefix"),
        ("s3://bkt/..", "is not valid: '..' in the prefix"),
        ("ftp://host/x", f"is not supported: {EXPECTED}"),
        ("prod", f"is not supported: {EXPECTED}"),
    ],
)
def test_a_bad_store_uri_is_refused_with_its_reason(uri: str, reason: str) -> None:
    with pytest.raises(InputError) as excinfo:
        open_store(uri, "input store")
    assert str(excinfo.value) == f"input store {uri!r} {reason}"


def test_a_bad_store_uri_is_shown_cut_to_120_characters() -> None:
    long = "ftp://" + "h" * 300
    with pytest.raises(InputError) as excinfo:
        open_store(long)
    assert str(excinfo.value) == f"store {long[:120]!r} is not supported: {EXPECTED}"
    with pytest.raises(InputError) as excinfo:
        open_store("s3://[" + "b" * 300)
    assert str(excinfo.value) == f"store {('s3://[' + 'b' * 300)[:120]!r} is not valid: {EXPECTED}"


@pytest.mark.parametrize(
    ("environ", "uri"),
    [
        (
            {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": "/home/runner/work/_temp"},
            "file:///home/runner/work/_temp/ecsundo",
        ),
        ({"GITHUB_ACTIONS": "true", "RUNNER_TEMP": "/tmp/rt//"}, "file:///tmp/rt/ecsundo"),
        ({"GITHUB_ACTIONS": "true", "RUNNER_TEMP": "/tmp/X/"}, "file:///tmp/X/ecsundo"),
        ({"GITHUB_ACTIONS": "true", "RUNNER_TEMP": ""}, "file://.ecsundo"),
        ({"GITHUB_ACTIONS": "true"}, "file://.ecsundo"),
        ({"GITHUB_ACTIONS": "True", "RUNNER_TEMP": "/tmp/rt"}, "file://.ecsundo"),
        ({"RUNNER_TEMP": "/tmp/rt"}, "file://.ecsundo"),
        ({}, "file://.ecsundo"),
    ],
)
def test_the_default_store_is_under_runner_temp_only_in_github_actions(
    environ: dict[str, str], uri: str
) -> None:
    assert default_store_uri(environ) == uri


BUCKET = "snapshots"
STORE = f"s3://{BUCKET}/ecsundo"


@pytest.fixture
def shop(sim: Any) -> Any:
    sim.create_cluster("shop")
    sim.create_service("shop", "web", sim.register(body("web", "1")))
    sim.client("s3").create_bucket(Bucket=BUCKET)
    return sim


def objects(sim: Any) -> dict[str, bytes]:
    s3 = sim.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def deploy(sim: Any, version: str) -> None:
    sim.client("ecs").update_service(
        cluster="shop", service="web", taskDefinition=sim.register(body("web", version))
    )


def test_the_simulator_honours_if_none_match_as_s3_does(shop: Any) -> None:
    s3 = shop.client("s3")
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=BUCKET, Key="k", Body=b"second", IfNoneMatch="*")
    assert excinfo.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"first"


def test_an_existing_snapshot_is_never_overwritten(shop: Any) -> None:
    first = ecsundo(shop, "cluster", "snapshot", "shop", "--store", STORE, "--snapshot-id", "pre")
    assert first.returncode == 0, first.stderr
    kept = objects(shop)
    [(key, document)] = kept.items()
    assert key.endswith("/shop/pre.json") and b"web:1" in document
    deploy(shop, "2")
    again = ecsundo(shop, "cluster", "snapshot", "shop", "--store", STORE, "--snapshot-id", "pre")
    assert again.returncode == 1
    assert again.stderr == (
        "ecsundo: error: write snapshot pre.json: the object exists already (never overwritten)\n"
    )
    assert objects(shop) == kept  # still the snapshot of web:1
    restored = ecsundo(shop, "cluster", "restore", "shop", "--store", STORE, "--snapshot-id", "pre")
    assert restored.returncode == 0, restored.stderr
    described = shop.client("ecs").describe_services(cluster="shop", services=["web"])
    assert described["services"][0]["taskDefinition"].endswith("web:1")


def test_a_missing_snapshot_is_not_found_and_changes_nothing(shop: Any) -> None:
    shop.calls.clear()
    proc = ecsundo(shop, "cluster", "restore", "shop", "--store", STORE, "--snapshot-id", "gone")
    assert proc.returncode == 1
    assert proc.stderr == (
        f"ecsundo: error: snapshot 'gone' not found for cluster 'shop' in {STORE}\n"
    )
    assert [c for c in shop.mutating_calls() if c.service == "ecs"] == []


def test_a_renamed_snapshot_is_refused(shop: Any) -> None:
    taken = ecsundo(shop, "cluster", "snapshot", "shop", "--store", STORE, "--snapshot-id", "pre")
    assert taken.returncode == 0, taken.stderr
    [key] = objects(shop)
    shop.client("s3").copy_object(
        Bucket=BUCKET, Key=key.replace("pre.json", "renamed.json"), CopySource=f"{BUCKET}/{key}"
    )
    deploy(shop, "2")
    shop.calls.clear()
    proc = ecsundo(shop, "cluster", "restore", "shop", "--store", STORE, "--snapshot-id", "renamed")
    assert proc.returncode == 1
    assert "snapshot 'renamed' carries id 'pre' (renamed or copied)" in proc.stderr, proc.stderr
    assert [c for c in shop.mutating_calls() if c.service == "ecs"] == []


def test_a_bucket_s3_refuses_is_one_line_naming_the_store(shop: Any) -> None:
    store = "s3://no-such-bucket/ecsundo"
    proc = ecsundo(shop, "cluster", "snapshot", "shop", "--store", store)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"in {store}: NoSuchBucket:" in proc.stderr and "Traceback" not in proc.stderr


# --- the store's operations in-process, against the simulator's S3 -----------------------------

KEY = "ecsundo/123456789012/us-east-1/prod"


@pytest.fixture
def bucket(sim: Any) -> Any:
    """The simulator with an empty bucket; no retries, so that a fault is answered at once."""
    sim.client("s3").create_bucket(Bucket=BUCKET)
    return sim


def s3_store(sim: Any, prefix: str = "ecsundo", kms: str | None = None) -> S3Store:
    client = sim.client("s3", config=Config(retries={"total_max_attempts": 1}))
    return S3Store(BUCKET, prefix, kms, client=client)


def head(sim: Any, key: str) -> dict[str, Any]:
    return sim.client("s3").head_object(Bucket=BUCKET, Key=key)


def test_put_writes_the_document_json_encrypted_under_the_prefix(bucket: Any) -> None:
    store = s3_store(bucket, "/ecsundo/")
    assert (store.prefix, store.uri) == ("ecsundo", f"s3://{BUCKET}/ecsundo")
    taken = make(snapshot_id="pre")
    assert store.put(PROD, taken) == f"s3://{BUCKET}/{KEY}/pre.json"
    assert objects(bucket) == {f"{KEY}/pre.json": doc.dumps(taken.to_json())}
    stored = head(bucket, f"{KEY}/pre.json")
    assert stored["ContentType"] == "application/json"
    assert stored["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in stored
    assert store.get(PROD, "pre") == taken


def test_only_slashes_are_trimmed_from_the_prefix() -> None:
    store = S3Store(BUCKET, "/Xeno/snaps/")
    assert (store.prefix, store.uri) == ("Xeno/snaps", f"s3://{BUCKET}/Xeno/snaps")
    assert store.location("a/b.json") == f"s3://{BUCKET}/Xeno/snaps/a/b.json"


def test_with_a_kms_key_objects_are_encrypted_with_that_key(bucket: Any) -> None:
    store = s3_store(bucket, kms="alias/snapshots")
    store.put(PROD, make(snapshot_id="pre"))
    stored = head(bucket, f"{KEY}/pre.json")
    assert (stored["ServerSideEncryption"], stored["SSEKMSKeyId"]) == ("aws:kms", "alias/snapshots")


def test_without_a_prefix_keys_start_at_the_account(bucket: Any) -> None:
    store = s3_store(bucket, "")
    assert store.uri == f"s3://{BUCKET}"
    taken = make(snapshot_id="pre")
    uri = store.put(PROD, taken)
    assert uri == f"s3://{BUCKET}/123456789012/us-east-1/prod/pre.json"
    assert list(objects(bucket)) == ["123456789012/us-east-1/prod/pre.json"]
    assert store.list(PROD) == ["pre"] and store.latest(PROD) == taken


def test_an_existing_object_is_refused_in_one_line_and_kept(bucket: Any) -> None:
    store = s3_store(bucket)
    store.put(PROD, make(snapshot_id="pre"))
    kept = objects(bucket)
    with pytest.raises(StoreError) as excinfo:
        store.put(PROD, make(snapshot_id="pre"))
    assert str(excinfo.value) == (
        "write snapshot pre.json: the object exists already (never overwritten)"
    )
    assert objects(bucket) == kept


def test_a_missing_object_is_not_found_naming_the_store(bucket: Any) -> None:
    store = s3_store(bucket)
    with pytest.raises(NotFoundError) as excinfo:
        store.load(PROD, "gone")
    assert str(excinfo.value) == f"snapshot 'gone' not found for cluster 'prod' in {STORE}"
    with pytest.raises(NotFoundError) as excinfo:
        store.load(PROD, LATEST)
    assert str(excinfo.value) == (
        f"no snapshot of cluster 'prod' (us-east-1, account 123456789012) in {STORE}"
    )


def test_s3_refusals_are_one_line_naming_what_was_done_and_the_store(sim: Any) -> None:
    store = s3_store(sim)  # the bucket does not exist
    missing = "NoSuchBucket: The specified bucket does not exist"
    for act, doing in (
        (lambda: store.put(PROD, make(snapshot_id="pre")), "write snapshot pre.json"),
        (lambda: store.get(PROD, "pre"), "read snapshot"),
        (lambda: store.list(PROD), "list snapshots"),
    ):
        with pytest.raises(StoreError) as excinfo:
            act()
        assert str(excinfo.value) == f"{doing} in {STORE}: {missing}"


def test_a_server_error_is_one_line_with_its_status(bucket: Any) -> None:
    store = s3_store(bucket)
    bucket.rules = Rules(error_rate=1.0)
    with pytest.raises(StoreError) as excinfo:
        store.get(PROD, "pre")
    assert str(excinfo.value) == f"read snapshot in {STORE}: 500: Internal Server Error"


def test_a_dropped_connection_is_one_line(bucket: Any) -> None:
    store = s3_store(bucket)
    bucket.rules = Rules(drop_rate=1.0)
    with pytest.raises(StoreError) as excinfo:
        store.list(PROD)
    message = str(excinfo.value)
    assert message.startswith(f"list snapshots in {STORE}: Connection was closed"), message
    assert "\n" not in message


def test_listing_names_the_snapshots_of_that_folder_only(bucket: Any) -> None:
    store = s3_store(bucket)
    s3 = bucket.client("s3")
    for key in (
        f"{KEY}/pre.json",
        f"{KEY}/before-v2.json",
        f"{KEY}/notes.txt",  # not a snapshot
        f"{KEY}/nested/deeper.json",  # in a sub-folder
        f"{KEY}-eu/other.json",  # another cluster whose name starts alike
        "elsewhere/123456789012/us-east-1/prod/foreign.json",  # outside the prefix
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}")
    listed = store._ids(store.folder(PROD))
    assert sorted(i for _, i in listed) == ["before-v2", "pre"]
    for stored, snapshot_id in listed:
        assert stored == head(bucket, f"{KEY}/{snapshot_id}.json")["LastModified"].timestamp()
    assert sorted(store.list(PROD)) == ["before-v2", "pre"]
    assert store._ids("123456789012/us-east-1/nothing-here") == []


def test_the_default_client_comes_from_the_environment(
    bucket: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    store = S3Store(BUCKET)
    assert (store.prefix, store.kms_key_id, store.uri) == ("", None, f"s3://{BUCKET}")
    client = store.client
    assert client is store.client  # made once
    taken = make(snapshot_id="pre")
    store.put(PROD, taken)
    assert store.get(PROD, "pre") == taken
