"""Serve one event to `python -m ric examples.hello.handler` and print its answer.

A stand-in for the emulator (issue 3): a minimal Runtime API on loopback, from
the stdlib, that hands out one event and stops the runtime after its result.
Usage: python examples/invoke_once.py '{"name": "Lambda"}'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    event = b"{}"
    request_id = str(uuid.uuid4())
    result: list[tuple[str, bytes]] = []  # noqa: RUF012 - one invocation per process
    done = threading.Event()

    def do_GET(self) -> None:
        if self.done.is_set() or self.result:
            self.done.wait()  # no second event: wait until we are stopped
            return
        deadline = int(time.time() * 1000) + 3000
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", self.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:hello",
        )
        self.send_header("Content-Length", str(len(self.event)))
        self.end_headers()
        self.wfile.write(self.event)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.result.append((self.path.rsplit("/", 1)[-1], body))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.done.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    RuntimeApi.event = (sys.argv[1] if len(sys.argv) > 1 else '{"name": "Lambda"}').encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "hello",
        "LAMBDA_TASK_ROOT": str(ROOT),
    }
    runtime = subprocess.Popen([sys.executable, "-m", "ric", "examples.hello.handler"], env=env)
    finished = RuntimeApi.done.wait(30)
    runtime.terminate()
    runtime.wait()
    server.shutdown()
    if not finished:
        print("no answer from the runtime within 30 s", file=sys.stderr)
        return 1
    kind, body = RuntimeApi.result[0]
    print(f"{kind}: {json.dumps(json.loads(body), indent=2)}")
    return 0 if kind == "response" else 1


if __name__ == "__main__":
    sys.exit(main())
