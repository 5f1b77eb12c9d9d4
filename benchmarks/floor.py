"""The floor: the least a Python runtime loop can do. Stdlib json, one socket, no features.

    python benchmarks/floor.py MODULE.FUNCTION

No context object, no error handling, no retries: a reference for how much CPU
an invocation costs before any runtime feature, not something to deploy.
"""

import importlib
import json
import os
import socket
import sys

NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"


def main() -> None:
    module, _, name = sys.argv[1].rpartition(".")
    sys.path.insert(0, os.getcwd())
    handler = getattr(importlib.import_module(module), name)
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = b""

    def read() -> tuple[dict[bytes, bytes], bytes]:
        nonlocal buffer
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536)
        head, _, rest = buffer.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            headers[key.lower()] = value.strip()
        length = int(headers.get(b"content-length", 0))
        while len(rest) < length:
            rest += sock.recv(65536)
        buffer = rest[length:]
        return headers, rest[:length]

    while True:
        sock.sendall(NEXT)
        headers, body = read()
        result = json.dumps(handler(json.loads(body), None)).encode()
        request_id = headers[b"lambda-runtime-aws-request-id"]
        sock.sendall(
            b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (request_id, len(result), result)
        )
        read()


if __name__ == "__main__":
    main()
