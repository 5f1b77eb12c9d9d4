"""A minimal multi-concurrency runtime: one thread per slot, each on its own connection.

Each invocation is held until a file named ``release`` appears in the current
directory (10 s at most), then answered with the runtime's pid.
"""

import http.client
import json
import os
import threading
import time

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
slots = int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "1"))


def worker() -> None:
    connection = http.client.HTTPConnection(host, int(port))
    while True:
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        event = connection.getresponse()
        event.read()
        request_id = event.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = time.monotonic() + 10
        while not os.path.exists("release") and time.monotonic() < deadline:
            time.sleep(0.01)
        body = json.dumps({"pid": os.getpid(), "slots": slots})
        connection.request("POST", f"/2018-06-01/runtime/invocation/{request_id}/response", body)
        connection.getresponse().read()


for _ in range(slots):
    threading.Thread(target=worker).start()
