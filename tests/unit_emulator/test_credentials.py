"""emulator.credentials: the one source of a function's AWS credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.credentials import credentials, static_profile
from emulator.errors import ConfigError

OWN = {"AWS_ACCESS_KEY_ID": "own", "AWS_SECRET_ACCESS_KEY": "own-secret", "OTHER": "x"}


def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "credentials").write_text(
        "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = dev-secret\n"
        "aws_session_token = dev-token\n"
    )
    (tmp_path / "config").write_text(
        "[profile cfg]\naws_access_key_id = AKCFG\naws_secret_access_key = cfg-secret\n"
        "[profile empty]\nregion = eu-west-1\n"
    )
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }


def test_the_emulators_own_keys_and_nothing_else_by_default() -> None:
    assert credentials(OWN, None, False) == {
        "AWS_ACCESS_KEY_ID": "own",
        "AWS_SECRET_ACCESS_KEY": "own-secret",
    }
    assert credentials(OWN, None, True) == {}
    assert credentials({"OTHER": "x"}, None, False) == {}


def test_a_profiles_static_keys_from_either_file(tmp_path: Path) -> None:
    environ = files(tmp_path)
    assert static_profile(environ, "dev") == {
        "AWS_ACCESS_KEY_ID": "AKDEV",
        "AWS_SECRET_ACCESS_KEY": "dev-secret",
        "AWS_SESSION_TOKEN": "dev-token",
    }
    assert static_profile(environ, "cfg")["AWS_ACCESS_KEY_ID"] == "AKCFG"
    with pytest.raises(ConfigError, match="--profile empty: no static credentials"):
        static_profile(environ, "empty")


def test_a_profile_through_botocore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in files(tmp_path).items():
        monkeypatch.setenv(name, value)
    found = credentials(OWN, "dev", False)
    assert found["AWS_ACCESS_KEY_ID"] == "AKDEV"
    assert found["AWS_SESSION_TOKEN"] == "dev-token"
    with pytest.raises(ConfigError, match="--profile nosuch"):
        credentials(OWN, "nosuch", False)
