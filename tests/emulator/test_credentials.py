"""A function's AWS credentials: a profile's, or the emulator's own, and no other variable."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.emulator.harness import EmulatorProcess, invoke_path

APP = """
import os

def handler(event, context):
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "SECRET"))}
"""
OWN = {
    "AWS_ACCESS_KEY_ID": "AKOWN",
    "AWS_SECRET_ACCESS_KEY": "own-secret",
    "SECRET_OF_THE_EMULATOR": "never",
}


def seen(tmp_path: Path, *args: str) -> dict[str, str]:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "credentials").write_text(
        "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = dev-secret\n"
        "aws_session_token = dev-token\n"
    )
    env = {
        **os.environ,
        **OWN,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    command = ["--port", "0", "--code-dir", str(tmp_path), *args, "app.handler"]
    with EmulatorProcess(command, cwd=tmp_path, env=env) as emulator:
        answer = httpx.post(emulator.url + invoke_path("function"), content=b"{}", timeout=30)
    return dict(answer.json())


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (("--profile", "dev"), ("AKDEV", "dev-secret", "dev-token")),
        ((), ("AKOWN", "own-secret", None)),
        (("--no-credentials",), (None, None, None)),
    ],
    ids=["profile", "own", "none"],
)
def test_credentials_come_from_one_place(
    tmp_path: Path, args: tuple[str, ...], keys: tuple[str | None, ...]
) -> None:
    env = seen(tmp_path, *args)
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    assert tuple(env.get(name) for name in names) == keys
    assert "SECRET_OF_THE_EMULATOR" not in env
    assert "AWS_SHARED_CREDENTIALS_FILE" not in env  # the emulator's, not the function's
    assert env["AWS_REGION"] == "us-east-1"
