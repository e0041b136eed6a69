"""The S3 store, proven by what ends up in the bucket (not by the request's parameters):
an existing snapshot is never overwritten, a missing one is "not found", a renamed one is
refused, and S3's refusals are one line. Through `ecsundo`, over HTTP to the simulator's S3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecsundo_action.errors import NotFoundError, StoreError
from ecsundo_action.snapshots import document as doc
from ecsundo_action.snapshots.stores import LATEST, S3Store
from simulator import Rules
from tests.conftest import body, ecsundo
from tests.test_stores import PROD, make

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
