"""Stores and snapshot documents: what is written, and what is refused when read back."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ecsundo_action import document as doc
from ecsundo_action.errors import InputError, NotFoundError, SnapshotRefused, StoreError
from ecsundo_action.resources import Cluster
from ecsundo_action.stores import FileStore, S3Store, new_snapshot_id, open_store

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
    future["schemaVersion"] = 3
    future["checksum"] = doc.checksum(future)
    _rewrite(path, json.dumps(future).encode())
    with pytest.raises(SnapshotRefused, match="schema version 3"):
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
