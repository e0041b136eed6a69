"""Signed snapshots: an HMAC that KMS makes with the signing key, so the store is not trusted.

A checksum catches accidents only: whoever can write to the store can edit a document and
recompute it. A signature is a MAC that only the KMS key makes (GenerateMac) and checks
(VerifyMac); nobody holds the key's material, so writing to the store is not enough to forge
one. GenerateMac takes at most 4096 bytes, so what is MAC'ed is a short `statement`: the
schema version, account, Region, cluster ARN and id the document claims, and the sha256 of
its canonical content (everything but its checksum and signature). The names in it keep a
signed document from being replayed as another snapshot, or another cluster's.

HMAC (GenerateMac/VerifyMac) rather than an asymmetric key (Sign/Verify): both stay inside
KMS, an HMAC key costs one symmetric call each way, and no one verifies a snapshot without
KMS anyway. One algorithm, HMAC_SHA_256: the key must be an HMAC_256 key, and a document
naming any other algorithm is refused by the schema.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

from ecsundo_action.errors import AwsError, InputError, SigningKeyError, SnapshotRefused
from ecsundo_action.snapshots.document import Document, canonical

ALGORITHM = "HMAC_SHA_256"
MESSAGE_LIMIT = 4096  # the most GenerateMac takes
_HEADER = b"ecsundo snapshot signature 1\n"

_UUID = "-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12))
_KEY_ID = rf"(?:mrk-[0-9a-fA-F]{{32}}|{_UUID})"
_ALIAS = r"alias/[A-Za-z0-9/_-]{1,250}"
_ARN = r"arn:aws[a-z-]*:kms:(?P<region>[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}):\d{12}:"
KEY = re.compile(rf"{_KEY_ID}|{_ALIAS}|{_ARN}(?:key/{_KEY_ID}|{_ALIAS})")


def check_key(text: str, label: str) -> str | None:
    """A KMS key as KMS takes it: key id, key ARN, alias/NAME or alias ARN (blank: none)."""
    key = text.strip()
    if key and not KEY.fullmatch(key):
        raise InputError(
            f"{label}: expected a KMS key id, key ARN, alias/NAME or alias ARN, got {key[:80]!r}"
        )
    return key or None


def key_region(key: str) -> str | None:
    """The Region an ARN names (KMS must be asked there); None for an id or alias."""
    found = KEY.fullmatch(key)
    return found["region"] if found else None


def statement(document: Document) -> bytes:
    """What the MAC covers: who the document says it is, and a digest of all it holds."""
    digest = hashlib.sha256(canonical(document, ("checksum", "signature"))).hexdigest()
    names = [
        document["schemaVersion"],
        document["accountId"],
        document["region"],
        document["cluster"]["arn"],
        document["id"],
        f"sha256:{digest}",
    ]
    message = _HEADER + json.dumps(names, ensure_ascii=False).encode()
    if len(message) > MESSAGE_LIMIT:  # a cluster ARN and an id are far shorter
        raise ValueError(f"a snapshot's signed statement is {len(message)} bytes")
    return message


class _InvalidMac(Exception):
    """VerifyMac: the MAC is not the one this key makes for this statement."""


# What each KMS error code says about the key, in words a person can act on.
_KEY_REFUSALS = {
    "NotFoundException": "KMS has no key {key} in {region}",
    "DisabledException": "signing key {key} is disabled in KMS",
    "KMSInvalidStateException": "signing key {key} cannot be used in its state in KMS "
    "(pending deletion or import)",
    "InvalidKeyUsageException": "signing key {key} makes no {algorithm} MACs: it must be an "
    "HMAC_256 key (key usage GENERATE_VERIFY_MAC)",
    "AccessDeniedException": "not allowed to use signing key {key}: this role needs "
    "kms:{operation} on it (see docs/iam-policy.json)",
    "KeyUnavailableException": "signing key {key} is unavailable in KMS just now",
}


class Signer:
    """Signs documents and verifies them with one KMS key; its client is made when first
    needed (a dry-run snapshot never is), with the retries every client of ours has."""

    def __init__(self, key: str, region: str | None = None, client: Any = None) -> None:
        self.key = key
        self.region = key_region(key) or region  # a key ARN's Region wins
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from ecsundo_action.aws.gateway import make_client

            self._client = make_client("kms", self.region)
        return self._client

    @contextlib.contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """KMS's and botocore's errors as one line naming the key; a bad MAC as _InvalidMac."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Error"))
            if code == "KMSInvalidMacException":
                raise _InvalidMac from None
            words = _KEY_REFUSALS.get(code)
            if words is not None:
                region = self.client.meta.region_name
                raise SigningKeyError(
                    words.format(
                        key=repr(self.key), region=region, operation=operation, algorithm=ALGORITHM
                    )
                ) from None
            message = " ".join(str(error.get("Message", "")).split())[:200]
            raise AwsError(
                f"KMS {operation} with signing key {self.key!r} failed: {code}: {message}"
            ) from None
        except BotoCoreError as exc:
            raise AwsError(f"KMS {operation} with signing key {self.key!r} failed: {exc}") from None

    def sign(self, document: Document) -> Document:
        """The signature field of a document about to be sealed."""
        with self._errors("GenerateMac"):
            answer = self.client.generate_mac(
                KeyId=self.key, Message=statement(document), MacAlgorithm=ALGORITHM
            )
        return {
            "keyId": answer["KeyId"],
            "macAlgorithm": answer["MacAlgorithm"],
            "mac": base64.b64encode(answer["Mac"]).decode("ascii"),
        }

    def verify(self, document: Document, source: str) -> None:
        """Refuse (SnapshotRefused) a document this key did not sign as it is now. The
        document's checksum and schema hold already (document.verified)."""
        signature = document.get("signature")
        if signature is None:
            raise SnapshotRefused(
                f"snapshot {source} is not signed: with signing key {self.key!r}, only "
                "snapshots signed with it are read"
            )
        try:
            with self._errors("VerifyMac"):
                answer = self.client.verify_mac(
                    KeyId=self.key,
                    Message=statement(document),
                    MacAlgorithm=signature["macAlgorithm"],
                    Mac=base64.b64decode(signature["mac"]),
                )
            valid = answer.get("MacValid") is True
        except _InvalidMac:
            valid = False
        if not valid:
            raise SnapshotRefused(
                f"snapshot {source} fails its signature check with signing key {self.key!r} "
                "(changed since it was signed, or signed with another key)"
            )
