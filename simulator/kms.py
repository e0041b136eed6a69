"""AWS's KMS rules for GenerateMac and VerifyMac, layered over moto's KMS where it is lenient.

moto computes and checks HMACs correctly (KMSInvalidMacException on a mismatch, and
InvalidKeyUsageException for a key that is not an HMAC key of that algorithm), but it uses a
disabled key or one pending deletion as if it were enabled, takes a Message of any size, says
nothing in the errors it raises, and answers GenerateMac with the bare key id. KMS's API
reference says otherwise: a Message is 1 to 4096 bytes (ValidationException); a disabled key
gives DisabledException, one pending deletion (or import) KMSInvalidStateException; and both
operations answer with the key's ARN. `install` patches moto's KMS backend and response
class to do so, once per process.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms.exceptions import InvalidKeyUsageException, ValidationException
from moto.kms.models import KmsBackend
from moto.kms.responses import KmsResponse

MESSAGE_LIMIT = 4096  # GenerateMac's and VerifyMac's Message: 1 to 4096 bytes


class DisabledException(JsonRESTError):
    code = 400

    def __init__(self, arn: str) -> None:
        super().__init__("DisabledException", f"{arn} is disabled.")


class KMSInvalidStateException(JsonRESTError):
    code = 400

    def __init__(self, arn: str, state: str) -> None:
        words = {"PendingDeletion": "pending deletion", "PendingImport": "pending import"}
        super().__init__("KMSInvalidStateException", f"{arn} is {words.get(state, state)}.")


def _usable(backend: KmsBackend, key_id: str, message: bytes, operation: str) -> None:
    """What KMS checks before it computes anything: the message's size, then the key's state
    and usage (moto's own code finds the key, having said NotFoundException if there is none)."""
    if not 1 <= len(message) <= MESSAGE_LIMIT:
        raise ValidationException(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MESSAGE_LIMIT}"
        )
    key = backend.keys[backend.any_id_to_key_id(key_id)]
    if key.key_state == "Disabled":
        raise DisabledException(key.arn)
    if key.key_state != "Enabled":
        raise KMSInvalidStateException(key.arn, key.key_state)
    if key.key_usage != "GENERATE_VERIFY_MAC":
        error = InvalidKeyUsageException()
        error.message = (
            f"{key.arn} key usage is {key.key_usage} which is not valid for {operation}."
        )
        error.description = json.dumps({"__type": error.error_type, "message": error.message})
        raise error


_moto_generate_mac = KmsBackend.generate_mac
_moto_verify_mac = KmsBackend.verify_mac
_moto_generate_mac_response = KmsResponse.generate_mac
_lock = threading.Lock()


def _generate_mac(self: KmsBackend, message: bytes, key_id: str, *args: Any, **kw: Any) -> Any:
    _usable(self, key_id, message, "GenerateMac")
    return _moto_generate_mac(self, message, key_id, *args, **kw)


def _verify_mac(self: KmsBackend, message: bytes, key_id: str, *args: Any, **kw: Any) -> Any:
    _usable(self, key_id, message, "VerifyMac")
    return _moto_verify_mac(self, message, key_id, *args, **kw)


def _generate_mac_response(self: KmsResponse) -> str:
    answer = json.loads(_moto_generate_mac_response(self))
    answer["KeyId"] = self.kms_backend.describe_key(answer["KeyId"]).arn  # KMS names the ARN
    return json.dumps(answer)


def install() -> None:
    """Layer the rules over moto's KMS in this process; calling it again does nothing."""
    with _lock:
        if getattr(KmsBackend, "_ecsundo_rules", False):
            return
        patches: dict[str, Callable[..., Any]] = {
            "generate_mac": _generate_mac,
            "verify_mac": _verify_mac,
        }
        for name, patch in patches.items():
            setattr(KmsBackend, name, patch)
        KmsResponse.generate_mac = _generate_mac_response  # type: ignore[method-assign]
        KmsBackend._ecsundo_rules = True  # type: ignore[attr-defined]
