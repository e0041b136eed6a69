"""Where snapshots live: a folder (`file://DIR`) or S3 (`s3://BUCKET/PREFIX`).

Both keep one JSON document per snapshot at `<account>/<region>/<cluster>/<id>.json`
under their root, so a store shared by several accounts or regions never mixes them up.
A store implements three primitives (_write, _read, _ids); the public operations, with
every check on what is read back, live once in the base class. Given a signer (a signing
key), a store signs every snapshot it puts and reads only those the key verifies.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from ecsundo_action.aws.records import Cluster
from ecsundo_action.errors import (
    InputError,
    SnapshotNotFound,
    SnapshotRefused,
    StoreError,
)
from ecsundo_action.snapshots import document as doc

if TYPE_CHECKING:
    from ecsundo_action.snapshots.signing import Signer

LATEST = "latest"  # names the newest snapshot of a cluster in a store, never an id
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")


def new_snapshot_id(now: datetime | None = None) -> str:
    """A fresh id that sorts by creation time: 20261127T162600123Z-3f9a2c."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def check_snapshot_id(snapshot_id: str, what: str = "snapshot-id") -> str:
    if snapshot_id == LATEST:
        raise InputError(f"{what} '{LATEST}' is reserved: it names the newest snapshot")
    if not _ID.fullmatch(snapshot_id) or ".." in snapshot_id:
        raise InputError(
            f"{what} {snapshot_id[:80]!r} is not valid: expected up to 128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (no '/', no '..')"
        )
    return snapshot_id


class Loaded(NamedTuple):
    """The newest snapshot a store accepts, and why each newer one was skipped."""

    snapshot: doc.Snapshot
    skipped: list[str]


class Store(ABC):
    """put / get / latest / list over a key-value primitive a backend provides."""

    uri: str
    signer: Signer | None = None  # set: put signs, get verifies (open_store's signer)

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None:
        """Write data at key; raise StoreError if key exists (never overwrite)."""

    @abstractmethod
    def _read(self, key: str) -> bytes | None:
        """The bytes at key, or None when there is nothing there."""

    @abstractmethod
    def _ids(self, folder: str) -> list[tuple[float, str]]:
        """(when it was stored, as a POSIX time; snapshot id) for each snapshot in folder."""

    @abstractmethod
    def location(self, key: str) -> str:
        """A URI a person (or a later step) can use to find the document at key."""

    @staticmethod
    def folder(cluster: Cluster) -> str:
        return f"{cluster.account_id}/{cluster.region}/{cluster.name}"

    def key(self, cluster: Cluster, snapshot_id: str) -> str:
        return f"{self.folder(cluster)}/{check_snapshot_id(snapshot_id)}.json"

    def put(self, cluster: Cluster, snapshot: doc.Snapshot) -> str:
        """Store a snapshot (signed with the signer's key, if any, then sealed and
        schema-checked on the way); returns its URI."""
        doc.check_owner(snapshot, cluster, snapshot.id)
        key = self.key(cluster, snapshot.id)
        document = snapshot.content()
        if self.signer is not None:
            document["signature"] = self.signer.sign(document)
        self._write(key, doc.dumps(doc.seal(document)))
        return self.location(key)

    def get(self, cluster: Cluster, snapshot_id: str) -> doc.Snapshot:
        key = self.key(cluster, snapshot_id)
        data = self._read(key)
        if data is None:
            raise SnapshotNotFound(
                f"snapshot {snapshot_id!r} not found for cluster {cluster.name!r} in {self.uri}"
            )
        document = doc.verified(data, repr(snapshot_id))
        snapshot = doc.Snapshot.from_json(document)
        doc.check_owner(snapshot, cluster, repr(snapshot_id))
        if snapshot.id != snapshot_id:
            raise SnapshotRefused(
                f"snapshot {snapshot_id!r} carries id {snapshot.id!r} (renamed or copied)"
            )
        if self.signer is not None:  # the last check: the only one that asks AWS
            self.signer.verify(document, repr(snapshot_id))
        return snapshot

    def list(self, cluster: Cluster) -> list[str]:
        """Ids of the cluster's snapshots, oldest first: by when they were stored, not by
        name (an explicit id such as before-v2 must not outrank a newer generated one)."""
        stored = sorted(self._ids(self.folder(cluster)))
        return [i for _, i in stored if _ID.fullmatch(i)]

    def load(self, cluster: Cluster, snapshot_id: str) -> Loaded:
        """The snapshot with that id, or the newest one for LATEST (with what it skipped)."""
        if snapshot_id == LATEST:
            return self.newest(cluster)
        return Loaded(self.get(cluster, snapshot_id), [])

    def latest(self, cluster: Cluster) -> doc.Snapshot:
        return self.newest(cluster).snapshot

    def newest(self, cluster: Cluster) -> Loaded:
        """The newest snapshot of the cluster. With a signer, the newest one its key verifies:
        each newer one that fails is skipped, and said in `skipped` (never chosen, and never
        passed over in silence); if none verifies, the refusal names them."""
        ids = self.list(cluster)
        if not ids:
            raise SnapshotNotFound(
                f"no snapshot of cluster {cluster.name!r} ({cluster.region}, "
                f"account {cluster.account_id}) in {self.uri}"
            )
        if self.signer is None:
            return Loaded(self.get(cluster, ids[-1]), [])
        skipped: list[str] = []
        for snapshot_id in reversed(ids):
            try:
                return Loaded(self.get(cluster, snapshot_id), skipped)
            except SnapshotRefused as exc:
                skipped.append(" ".join(str(exc).split()))
        shown = "; ".join(skipped[:3]) + (
            f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        )
        raise SnapshotRefused(
            f"no snapshot of cluster {cluster.name!r} in {self.uri} verifies with signing key "
            f"{self.signer.key!r}: {shown}"
        )


class FileStore(Store):
    """Plain, readable JSON files, written atomically and readable only by their owner."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.uri = f"file://{self.root}"

    def location(self, key: str) -> str:
        return f"file://{(self.root / key).resolve()}"

    def _write(self, key: str, data: bytes) -> None:
        path = self.root / key
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # mkstemp creates the file 0600; link() then publishes it atomically and,
            # unlike rename, refuses to replace a document that is already there.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.link(tmp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        except FileExistsError:
            raise StoreError(f"snapshot {path.name} already exists in {self.uri}") from None
        except OSError as exc:
            raise StoreError(f"cannot write to {self.uri}: {exc.strerror or exc}") from None

    def _read(self, key: str) -> bytes | None:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {self.uri}/{key}: {exc.strerror or exc}") from None

    def _ids(self, folder: str) -> list[tuple[float, str]]:
        path = self.root / folder
        if not path.is_dir():
            return []
        return [
            (p.stat().st_mtime, p.stem) for p in path.glob("*.json") if not p.name.startswith(".")
        ]


class S3Store(Store):
    """Objects encrypted at rest (AES256, or a KMS key), never overwritten."""

    def __init__(
        self, bucket: str, prefix: str = "", kms_key_id: str | None = None, client: Any = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.kms_key_id = kms_key_id
        self.uri = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from ecsundo_action.aws.gateway import make_client

            self._client = make_client("s3")
        return self._client

    def _object(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._object(key)}"

    def _encryption(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn S3 and botocore errors into one-line StoreErrors."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "Error")
            if code in ("PreconditionFailed", "412"):
                raise StoreError(
                    f"{doing}: the object exists already (never overwritten)"
                ) from None
            message = " ".join(str(error.get("Message", "")).split())
            raise StoreError(f"{doing} in {self.uri}: {code}: {message}") from None
        except BotoCoreError as exc:
            raise StoreError(f"{doing} in {self.uri}: {exc}") from None

    def _write(self, key: str, data: bytes) -> None:
        # IfNoneMatch makes S3 refuse the write if the object exists: no silent overwrite.
        with self._errors(f"write snapshot {key.rsplit('/', 1)[-1]}"):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._object(key),
                Body=data,
                ContentType="application/json",
                IfNoneMatch="*",
                **self._encryption(),
            )

    def _read(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        with self._errors("read snapshot"):
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            data: bytes = answer["Body"].read()
            return data

    def _ids(self, folder: str) -> list[tuple[float, str]]:
        prefix = self._object(folder) + "/"
        ids: list[tuple[float, str]] = []
        with self._errors("list snapshots"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(prefix) :]
                    if name.endswith(".json"):
                        stored = item["LastModified"].timestamp()
                        ids.append((stored, name.removesuffix(".json")))
        return ids


def open_store(uri: str, what: str = "store", signer: Signer | None = None) -> Store:
    """A store from its URI: file://DIR or s3://BUCKET/PREFIX[?kms-key-id=KEY]; with a
    signer, one that signs what it puts and reads only what the signer's key verifies."""
    store = _open(uri, what)
    store.signer = signer
    return store


def _open(uri: str, what: str) -> Store:
    expected = "expected file://DIR or s3://BUCKET/PREFIX"
    try:
        parts = urlsplit(uri.strip())
    except ValueError:  # e.g. an unclosed [ in the host
        raise InputError(f"{what} {uri[:120]!r} is not valid: {expected}") from None
    if parts.scheme == "file":
        path = parts.netloc + parts.path
        if not path or parts.query or parts.fragment:
            raise InputError(f"{what} {uri!r} is not valid: {expected}")
        return FileStore(path)
    if parts.scheme == "s3":
        if (
            not _BUCKET.fullmatch(parts.netloc)
            or not _PREFIX.fullmatch(parts.path)
            or parts.fragment
        ):
            raise InputError(f"{what} {uri!r} is not valid: {expected} (a valid bucket name)")
        query = parse_qs(parts.query, keep_blank_values=True)
        if set(query) - {"kms-key-id"} or any(len(v) != 1 or not v[0] for v in query.values()):
            raise InputError(
                f"{what} {uri!r} is not valid: the only query option is ?kms-key-id=KEY"
            )
        kms = query.get("kms-key-id", [None])[0]
        if ".." in parts.path.split("/"):
            raise InputError(f"{what} {uri!r} is not valid: '..' in the prefix")
        return S3Store(parts.netloc, parts.path, kms)
    raise InputError(f"{what} {uri[:120]!r} is not supported: {expected}")


def default_store_uri(environ: Mapping[str, str]) -> str:
    """Inside GitHub Actions, a folder under RUNNER_TEMP (mounted for the whole job, so
    snapshot, deploy, smoke test and restore in one job share it); else ./.ecsundo."""
    runner_temp = environ.get("RUNNER_TEMP")
    if environ.get("GITHUB_ACTIONS") == "true" and runner_temp:
        return f"file://{runner_temp.rstrip('/')}/ecsundo"
    return "file://.ecsundo"
