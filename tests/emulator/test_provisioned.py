"""Provisioned concurrency by boto3: environments initialised before any invoke, served
first, spilled over beyond; and the concurrency an account shares between functions.

Overlap is proven with held invocations: they run until the test releases them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import (
    EmulatorProcess,
    HeldInvoke,
    boto3_lambda,
    invoke_path,
    toml_config,
    wait_until,
)
from tests.emulator.test_aws_cli import AWS, aws_lambda

APP = """
import os, pathlib, sys, time

print("init as", os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], flush=True)
if os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency":
    if os.environ.get("FAIL_PROVISIONED"):
        raise RuntimeError("this init fails when provisioned")
    while os.path.exists(os.environ["HOLD_INIT"]):  # the test holds a provisioned init here
        time.sleep(0.01)

def handler(event, context):
    if event.get("die"):
        os._exit(3)
    if "running" in event:
        pathlib.Path(event["running"]).write_text(str(os.getpid()))
        while not os.path.exists(event["release"]):
            time.sleep(0.01)
    return {"pid": os.getpid(), "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
            "orjson": "orjson" in sys.modules}
"""


def start(tmp_path: Path, extra: dict[str, Any] | None = None) -> EmulatorProcess:
    (tmp_path / "app.py").write_text(APP)
    table = {"handler": "app.handler", "timeout": 30, "environment": {"HOLD_INIT": "hold-init"}}
    functions = {"warm": {**table, **(extra or {})}}
    (tmp_path / "f.toml").write_text(toml_config(functions, str(tmp_path)))
    return EmulatorProcess(["--port", "0", "--config", str(tmp_path / "f.toml")], tmp_path)


def ready(client: Any, qualifier: str) -> bool:
    config = client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier=qualifier)
    return bool(config["Status"] == "READY")


def invoke(emulator: EmulatorProcess, qualifier: str) -> httpx.Response:
    return httpx.post(emulator.url + invoke_path(f"warm:{qualifier}"), content=b"{}", timeout=30)


def test_two_provisioned_environments_start_before_the_first_invoke(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        put = client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2
        )
        assert put["RequestedProvisionedConcurrentExecutions"] == 2
        assert put["Status"] in ("IN_PROGRESS", "READY")
        assert wait_until(lambda: ready(client, "1"), timeout=30)

        def inits() -> list[str]:
            return [line for line in emulator.function_lines("warm") if line.startswith("init")]

        # Both inits ran, and no invoke yet (the output may come a moment after READY).
        assert wait_until(lambda: len(inits()) == 2)
        assert inits() == ["init as provisioned-concurrency"] * 2
        assert not any(line.startswith("START") for line in emulator.function_lines("warm"))
        config = client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        assert config["AvailableProvisionedConcurrentExecutions"] == 2
        with (
            HeldInvoke(emulator.url, "warm:1", tmp_path, "one") as one,
            HeldInvoke(emulator.url, "warm:1", tmp_path, "two") as two,
        ):
            spilled = invoke(emulator, "1")  # both provisioned ones are busy
            assert spilled.json()["init"] == "on-demand"
            assert not spilled.json()["orjson"]  # only a provisioned init loads it ahead
            provisioned = [one.release(), two.release()]
        bodies = [answer.json() for answer in provisioned]
        assert {body["init"] for body in bodies} == {"provisioned-concurrency"}
        assert all(body["orjson"] for body in bodies)  # loaded during that init
        assert len({body["pid"] for body in bodies}) == 2
        for answer in provisioned:
            report = emulator.wait_for_report("warm", answer.headers["x-amzn-requestid"])
            assert "Init Duration" not in report
        report = emulator.wait_for_report("warm", spilled.headers["x-amzn-requestid"])
        assert "Init Duration" in report
        listed = client.list_provisioned_concurrency_configs(FunctionName="warm")
        assert [
            c["FunctionArn"].rsplit(":", 1)[1] for c in listed["ProvisionedConcurrencyConfigs"]
        ] == ["1"]
        client.delete_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        with pytest.raises(ClientError) as gone:
            client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")
        code = gone.value.response["Error"]["Code"]
        assert code == "ProvisionedConcurrencyConfigNotFoundException"


def test_an_aliases_provisioned_environments_follow_it(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        client.create_alias(FunctionName="warm", Name="live", FunctionVersion="1")
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="live", ProvisionedConcurrentExecutions=1
        )
        assert wait_until(lambda: ready(client, "live"), timeout=30)
        assert invoke(emulator, "live").json()["init"] == "provisioned-concurrency"
        assert invoke(emulator, "1").json()["init"] == "provisioned-concurrency"


def test_provisioned_concurrency_is_refused_as_lambda_refuses_it(tmp_path: Path) -> None:
    with start(tmp_path, {"reserved_concurrency": 2}) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")

        def refused(qualifier: str, count: int) -> str:
            with pytest.raises(ClientError) as error:
                client.put_provisioned_concurrency_config(
                    FunctionName="warm", Qualifier=qualifier, ProvisionedConcurrentExecutions=count
                )
            return str(error.value.response["Error"]["Code"])

        assert refused("$LATEST", 1) == "InvalidParameterValueException"
        assert refused("7", 1) == "ResourceNotFoundException"
        assert refused("1", 3) == "InvalidParameterValueException"  # above the reservation
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2
        )
        with pytest.raises(ClientError) as below:
            client.put_function_concurrency(FunctionName="warm", ReservedConcurrentExecutions=1)
        assert below.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_functions_without_a_reservation_share_the_unreserved_concurrency(
    tmp_path: Path,
) -> None:
    (tmp_path / "app.py").write_text(APP)
    functions = {
        "warm": {"handler": "app.handler", "timeout": 30},
        "other": {"handler": "app.handler", "timeout": 30},
    }
    (tmp_path / "f.toml").write_text(toml_config(functions, str(tmp_path)))
    args = ["--port", "0", "--account-concurrency", "1", "--config", str(tmp_path / "f.toml")]
    with EmulatorProcess(args, tmp_path) as emulator:
        # One for the whole account, as a new account's quota is small: "other" is throttled
        # while "warm" holds it; nothing can be reserved of it (100 stay unreserved).
        client = boto3_lambda(emulator.url)
        with pytest.raises(ClientError) as reserving:
            client.put_function_concurrency(FunctionName="other", ReservedConcurrentExecutions=1)
        with HeldInvoke(emulator.url, "warm", tmp_path) as held:
            throttled = httpx.post(emulator.url + invoke_path("other"), content=b"{}")
            held.release()
        after = httpx.post(emulator.url + invoke_path("other"), content=b"{}")
    assert reserving.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert throttled.status_code == 429
    assert json.loads(throttled.content)["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert throttled.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert after.status_code == 200


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_provisions_a_version(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        assert (
            aws_lambda(emulator, tmp_path, "publish-version", "--function-name", "warm").returncode
            == 0
        )
        put = aws_lambda(
            emulator, tmp_path, "put-provisioned-concurrency-config", "--function-name", "warm",
            "--qualifier", "1", "--provisioned-concurrent-executions", "1",
        )  # fmt: skip
        assert put.returncode == 0, put.stderr
        assert json.loads(put.stdout)["RequestedProvisionedConcurrentExecutions"] == 1
        client = boto3_lambda(emulator.url)
        assert wait_until(lambda: ready(client, "1"), timeout=30)
        got = aws_lambda(
            emulator, tmp_path, "get-provisioned-concurrency-config", "--function-name", "warm",
            "--qualifier", "1",
        )  # fmt: skip
        assert json.loads(got.stdout)["Status"] == "READY"


def test_until_ready_calls_are_served_on_demand_and_a_raise_keeps_the_ready(
    tmp_path: Path,
) -> None:
    hold = tmp_path / "hold-init"
    with start(tmp_path, {"environment": {"HOLD_INIT": str(hold)}}) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        on_demand = invoke(emulator, "1").json()
        hold.touch()
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1
        )
        emulator.wait_for_line(lambda line: line.endswith("init as provisioned-concurrency"))
        assert invoke(emulator, "1").json() == on_demand  # the warm one, not the initialising
        assert not ready(client, "1")
        hold.unlink()
        assert wait_until(lambda: ready(client, "1"), timeout=30)
        first = invoke(emulator, "1").json()
        assert first["init"] == "provisioned-concurrency"
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=2
        )
        assert wait_until(lambda: ready(client, "1"), timeout=30)
        assert invoke(emulator, "1").json()["pid"] == first["pid"]  # kept, not restarted


def test_aliases_take_provisioned_concurrency_as_lambda_allows(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        client.update_function_configuration(FunctionName="warm", MemorySize=256)
        client.publish_version(FunctionName="warm")
        client.create_alias(FunctionName="warm", Name="latest", FunctionVersion="$LATEST")
        weights = {"AdditionalVersionWeights": {"2": 0.5}}
        client.create_alias(
            FunctionName="warm", Name="canary", FunctionVersion="1", RoutingConfig=weights
        )
        client.create_alias(FunctionName="warm", Name="live", FunctionVersion="1")

        def refused(qualifier: str) -> tuple[int, str]:
            with pytest.raises(ClientError) as error:
                client.put_provisioned_concurrency_config(
                    FunctionName="warm", Qualifier=qualifier, ProvisionedConcurrentExecutions=1
                )
            answer = error.value.response
            return answer["ResponseMetadata"]["HTTPStatusCode"], answer["Error"]["Code"]

        assert refused("latest") == (400, "InvalidParameterValueException")
        assert refused("canary") == (400, "InvalidParameterValueException")
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="live", ProvisionedConcurrentExecutions=1
        )
        assert refused("1") == (409, "ResourceConflictException")  # live's version
        with pytest.raises(ClientError) as moved:
            client.update_alias(FunctionName="warm", Name="live", FunctionVersion="$LATEST")
        assert moved.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_a_provisioned_environment_that_crashes_is_replaced(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1
        )
        assert wait_until(lambda: ready(client, "1"), timeout=30)
        died = httpx.post(emulator.url + invoke_path("warm:1"), json={"die": True}, timeout=30)
        assert died.headers["x-amz-function-error"] == "Unhandled"

        def inits() -> int:
            lines = emulator.function_lines("warm")
            return sum(line == "init as provisioned-concurrency" for line in lines)

        assert wait_until(lambda: inits() == 2 and ready(client, "1"), timeout=30)
        assert invoke(emulator, "1").json()["init"] == "provisioned-concurrency"


def test_a_provisioned_init_that_fails_is_failed_with_lambdas_reason(tmp_path: Path) -> None:
    failing = {"environment": {"HOLD_INIT": "hold-init", "FAIL_PROVISIONED": "1"}}
    with start(tmp_path, failing) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="warm")
        client.put_provisioned_concurrency_config(
            FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1
        )

        def status() -> Any:
            return client.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="1")

        assert wait_until(lambda: status()["Status"] == "FAILED", timeout=30)
        assert status()["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
        assert status()["AvailableProvisionedConcurrentExecutions"] == 0
        assert invoke(emulator, "1").json()["init"] == "on-demand"  # served on demand still
