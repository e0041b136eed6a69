"""The S3 store, proven by what ends up in the bucket (not by the request's parameters):
an existing snapshot is never overwritten, a missing one is "not found", a renamed one is
refused, and S3's refusals are one line. Through `ecsundo`, over HTTP to the simulator's S3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import body, ecsundo

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
