"""Snapshot documents: canonical form, checksum and schema checks.

A document is plain JSON (see schema/snapshot-v1.json). It is validated and checksummed
when written and again when read, and a document read back must belong to the cluster,
region and account asked for; anything else is refused with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

from .errors import SnapshotRefused
from .resources import Cluster

SCHEMA_VERSION = 1

Document = dict[str, Any]


@cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(
        resources.files(__package__).joinpath("schema/snapshot-v1.json").read_text("utf-8")
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def canonical(document: Document) -> bytes:
    """The bytes the checksum covers: the document without its checksum, keys sorted."""
    content = {key: value for key, value in document.items() if key != "checksum"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(document: Document) -> str:
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def _schema_problem(document: Document) -> str | None:
    error = next(iter(sorted(_validator().iter_errors(document), key=str)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
    return f"{where}: {error.message[:200]}"


def seal(document: Document) -> Document:
    """Add the checksum and validate; raises ValueError on a bug that made a bad document."""
    sealed = dict(document, checksum=checksum(document))
    problem = _schema_problem(sealed)
    if problem:
        raise ValueError(f"refusing to write an invalid snapshot: {problem}")
    return sealed


def dumps(document: Document) -> bytes:
    """Readable JSON for the store (indented; the checksum does not depend on layout)."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"


def loads(data: bytes, source: str) -> Document:
    """Parse and verify a stored document; refuse anything not exactly as written."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SnapshotRefused(
            f"snapshot {source} is not valid JSON (truncated or corrupted)"
        ) from None
    if not isinstance(document, dict):
        raise SnapshotRefused(f"snapshot {source} is not a snapshot document")
    version = document.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise SnapshotRefused(
            f"snapshot {source} has schema version {version!r}; "
            f"this ecsundo reads version {SCHEMA_VERSION}"
        )
    if document.get("checksum") != checksum(document):
        raise SnapshotRefused(f"snapshot {source} fails its checksum (modified or corrupted)")
    problem = _schema_problem(document)
    if problem:
        raise SnapshotRefused(f"snapshot {source} does not match the schema at {problem}")
    return document


def check_owner(document: Document, cluster: Cluster, source: str) -> None:
    """Refuse a document taken of another cluster, region or account."""
    theirs = (document["cluster"]["name"], document["region"], document["accountId"])
    ours = (cluster.name, cluster.region, cluster.account_id)
    for what, their, our in zip(("cluster", "region", "account"), theirs, ours, strict=True):
        if their != our:
            raise SnapshotRefused(f"snapshot {source} belongs to {what} {their!r}, not {our!r}")
