"""AWS's errors as one line that says what was being done: one rule for every client the
gateway owns (ECS, EventBridge, Scheduler, Application Auto Scaling)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ecsundo_action.errors import AwsError


def translate(doing: str, exc: ClientError | BotoCoreError) -> AwsError:
    """One line saying what was being done and what AWS answered."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Error")
        return AwsError(f"{doing}: {code}: {_one_line(error.get('Message', ''))}")
    if isinstance(exc, NoCredentialsError):
        return AwsError(f"{doing}: no AWS credentials found in the environment")
    return AwsError(f"{doing}: {_one_line(str(exc))}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
