"""A runtime that streams its responses as other runtimes put them on the wire.

Each event says how: ``style`` "node" (the mode header, one ``Trailer`` line
per field, as the Node.js runtime interface client sends) or "go" (no mode
header, both trailers on one comma-joined line, as aws-lambda-go does);
``chunks`` to send, each after the file ``{gate}/{i}`` appears when ``gate``
is given (chunk 0 goes at once), so a test can prove each chunk reached the
caller before the next was sent (a gate not opened is passed after
``patience`` seconds, 30 by default); then ``error`` in the trailers, or
``truncate``: the connection is closed before the last chunk, or ``endless``:
that chunk again and again until the Runtime API answers, as a runtime does
that streams on after its invocation ended.
"""

import base64
import json
import os
import select
import socket
import time
from typing import Any

API = "/2018-06-01/runtime"
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")


def read_response(sock: socket.socket) -> tuple[dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    headers["status"] = lines[0].split()[1]
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += sock.recv(65536)
    return headers, body


def wait_for(path: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def stream(sock: socket.socket, request_id: str, event: dict[str, Any]) -> None:
    fields = [
        f"POST {API}/invocation/{request_id}/response HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Type: {event.get('content_type', 'text/plain')}",
        "Transfer-Encoding: chunked",
    ]
    if event["style"] == "node":
        fields += [
            "Lambda-Runtime-Function-Response-Mode: streaming",
            "Trailer: Lambda-Runtime-Function-Error-Type",
            "Trailer: Lambda-Runtime-Function-Error-Body",
        ]
    else:
        fields.append(
            "trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
        )
    sock.sendall(("\r\n".join(fields) + "\r\n\r\n").encode())
    for index, chunk in enumerate(event["chunks"]):
        if index and event.get("gate"):
            wait_for(os.path.join(event["gate"], str(index)), event.get("patience", 30))
        data = chunk.encode()
        sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
    if event.get("truncate"):
        sock.close()
        return
    if "endless" in event:
        data = event["endless"].encode()
        while not select.select([sock], [], [], 0)[0]:
            sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
        head, answer = read_response(sock)
        print("stream answered", head["status"], answer.decode(), flush=True)
        return
    trailers = b""
    if "error" in event:
        body = base64.b64encode(json.dumps(event["error"]).encode())
        trailers = (
            b"Lambda-Runtime-Function-Error-Type: %s\r\n" % event["error"]["errorType"].encode()
        )
        trailers += b"Lambda-Runtime-Function-Error-Body: %s\r\n" % body
    sock.sendall(b"0\r\n" + trailers + b"\r\n")
    _, answer = read_response(sock)
    print("stream answered", answer.decode(), flush=True)


while True:
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET {API}/invocation/next HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    headers, body = read_response(sock)
    event = json.loads(body)
    if event.get("version") == "2.0":  # a function URL's event: the instructions are its body
        raw = event["body"]
        event = json.loads(base64.b64decode(raw) if event["isBase64Encoded"] else raw)
    stream(sock, headers["lambda-runtime-aws-request-id"], event)
    sock.close()
