"""A canary release of examples/hello.py on the emulator, with boto3.

    python -m emulator hello.handler --code-dir examples
    python examples/release_demo.py http://127.0.0.1:9000

Version 1 is published; a change of memory makes version 2; alias "live"
points at 1 and sends half of its invocations to 2; provisioned concurrency
keeps one environment of "live" initialised ahead of its invocations.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import boto3


def main(url: str) -> None:
    lam: Any = boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    first = lam.publish_version(FunctionName="function", Description="first")["Version"]
    lam.update_function_configuration(FunctionName="function", MemorySize=256)
    second = lam.publish_version(FunctionName="function")["Version"]
    print(f"published versions {first} and {second}")
    lam.create_alias(
        FunctionName="function",
        Name="live",
        FunctionVersion=first,
        RoutingConfig={"AdditionalVersionWeights": {second: 0.5}},
    )
    ran = Counter(
        lam.invoke(FunctionName="function", Qualifier="live", Payload=b"{}")["ExecutedVersion"]
        for _ in range(20)
    )
    print(f"alias live ran versions {sorted(ran)}")
    lam.update_alias(FunctionName="function", Name="live", FunctionVersion=second, RoutingConfig={})
    lam.put_provisioned_concurrency_config(
        FunctionName="function", Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    deadline = time.monotonic() + 30
    while True:
        config = lam.get_provisioned_concurrency_config(FunctionName="function", Qualifier="live")
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(f"provisioned concurrency of live: {config['Status']}")
    answer = lam.invoke(FunctionName="function", Qualifier="live", Payload=b'{"name": "canary"}')
    print(f"version {answer['ExecutedVersion']}: {answer['Payload'].read().decode()}")


if __name__ == "__main__":
    main(sys.argv[1])
