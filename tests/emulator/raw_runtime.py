"""A deliberately clumsy runtime: answers each event twice and with a wrong request id.

It prints the status of every post, so a test reads the Runtime API's answers
from the invocation's log tail.
"""

import http.client
import os

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
connection = http.client.HTTPConnection(host, int(port))


def call(method: str, path: str, body: bytes = b"") -> http.client.HTTPResponse:
    connection.request(method, f"/2018-06-01/runtime/{path}", body=body)
    response = connection.getresponse()
    response.read()
    return response


while True:
    event = call("GET", "invocation/next")
    request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
    statuses = [
        call("POST", "invocation/not-the-id/response", b"{}").status,
        call("POST", f"invocation/{request_id}/response", b'"first"').status,
    ]
    statuses.append(call("POST", f"invocation/{request_id}/response", b'"second"').status)
    statuses.append(call("POST", "init/error", b"{}").status)
    print("statuses", *statuses, flush=True)
