"""A handler whose modules and tool come from its layers, as on Lambda from /opt."""

import subprocess

import greeting
import names


def handler(event, context):
    text = f"{greeting.WORD}, {names.who(event)}"
    # bin/ of a layer is on PATH.
    return subprocess.run(
        ["shout", text], capture_output=True, text=True, check=True
    ).stdout.strip()
