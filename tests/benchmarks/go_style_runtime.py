"""A runtime that streams as Go's does, for the fake API's tests: ``python go_style_runtime.py``.

No response-mode header, both trailer names on one ``Trailer`` line, the
stream posted on a connection of its own (as Node's client does), the
handler's clock stamp first, and an error in the trailers after the data.
"""

from __future__ import annotations

import http.client
import json
import os
import time

__all__ = ["main"]

TRAILERS = "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
ERROR = b"lambda-runtime-function-error-type: Handler.Late\r\nlambda-runtime-function-error-body: e30=\r\n"


def main() -> None:
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    poll, post = http.client.HTTPConnection(api), http.client.HTTPConnection(api)
    while True:
        poll.request("GET", "/2018-06-01/runtime/invocation/next")
        answer = poll.getresponse()
        event = json.loads(answer.read())
        request_id = answer.getheader("Lambda-Runtime-Aws-Request-Id")
        post.putrequest("POST", f"/2018-06-01/runtime/invocation/{request_id}/response")
        post.putheader("trailer", TRAILERS)
        post.putheader("transfer-encoding", "chunked")
        post.endheaders()
        chunk = b"x" * event["size"]
        for i in range(event["chunks"]):
            data = b"%020d" % time.monotonic_ns() + chunk[20:] if i == 0 else chunk
            post.send(b"%x\r\n" % len(data) + data + b"\r\n")
        post.send(b"0\r\n" + ERROR + b"\r\n")
        post.getresponse().read()


if __name__ == "__main__":
    main()
