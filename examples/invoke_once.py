"""Start the emulator on examples/hello.py, invoke it once, print the answer, stop.

    python examples/invoke_once.py '{"name": "Lambda"}'

The same as running ``python -m emulator hello.handler --code-dir examples`` and, from
another shell, ``python -m emulator invoke --payload '{"name": "Lambda"}' --tail``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from emulator.app import Emulator
from emulator.config import EmulatorConfig, FunctionConfig, bootstrap_command

# The example's own folder is the function's code: this works from a checkout
# and with the package installed from a wheel, from any working directory.
CODE_DIR = Path(__file__).resolve().parent
HANDLER = "hello.handler"


async def invoke_once(payload: bytes) -> int:
    function = FunctionConfig(
        name="hello", command=bootstrap_command(HANDLER), code_dir=str(CODE_DIR), handler=HANDLER
    )
    async with (
        Emulator(EmulatorConfig((function,), port=0)) as emulator,
        httpx.AsyncClient(base_url=emulator.url, timeout=30) as client,
    ):
        response = await client.post("/2015-03-31/functions/hello/invocations", content=payload)
    print(f"status {response.status_code}, request id {response.headers['x-amzn-requestid']}")
    print(response.text)
    return 1 if "x-amz-function-error" in response.headers else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(invoke_once((sys.argv[1] if len(sys.argv) > 1 else "{}").encode())))
