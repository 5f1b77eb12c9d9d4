"""The credentials a function gets: its execution role's, as far as a local machine has one.

Lambda gives a function its execution role's temporary credentials in
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``
("Defined runtime environment variables", configuration-envvars.html). Here
they come from one place, chosen once at start-up: a named profile
(``--profile NAME``: the shared credentials and config files, as the AWS CLI
reads them, ``AWS_SHARED_CREDENTIALS_FILE`` and ``AWS_CONFIG_FILE``
included), else the emulator's own environment, else nothing
(``--no-credentials``). A profile is read with botocore when it is installed,
so SSO, assume-role and ``credential_process`` profiles work, their
credentials frozen as they were at start-up; without botocore, static keys
only. No other variable of the emulator's process reaches a function.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping

from emulator.errors import ConfigError

__all__ = ["KEYS", "credentials", "static_profile"]

KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def credentials(environ: Mapping[str, str], profile: str | None, none: bool) -> dict[str, str]:
    """The variables a function's credentials are in (some of :data:`KEYS`, or none)."""
    if none:
        return {}
    if profile is not None:
        return _profile(environ, profile)
    return {key: environ[key] for key in KEYS if environ.get(key)}


def _profile(environ: Mapping[str, str], name: str) -> dict[str, str]:
    try:
        from botocore.session import Session
    except ImportError:
        return static_profile(environ, name)
    from botocore.exceptions import BotoCoreError

    try:
        found = Session(profile=name).get_credentials()
    except BotoCoreError as exc:
        raise ConfigError(f"--profile {name}: {exc}") from None
    if found is None:
        raise ConfigError(f"--profile {name}: the profile has no credentials")
    frozen = found.get_frozen_credentials()
    values = (frozen.access_key, frozen.secret_key, frozen.token)
    return {key: value for key, value in zip(KEYS, values, strict=True) if value}


def static_profile(environ: Mapping[str, str], name: str) -> dict[str, str]:
    """A profile's static keys from the shared credentials file, then the config file."""
    home = os.path.expanduser("~")
    files = [
        (
            environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"),
            name,
        ),
        (
            environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config"),
            name if name == "default" else f"profile {name}",
        ),
    ]
    for path, section in files:
        parser = configparser.RawConfigParser()
        parser.read(path)
        if parser.has_option(section, "aws_access_key_id"):
            fields = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            values = [parser.get(section, field, fallback="") for field in fields]
            return {key: value for key, value in zip(KEYS, values, strict=True) if value}
    raise ConfigError(f"--profile {name}: no static credentials for this profile")
