"""Versions and aliases by boto3 and the AWS CLI: PublishVersion snapshots the code and the
configuration, each qualifier form runs its version, a weighted alias routes between two.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import EmulatorProcess, boto3_lambda, invoke_path, toml_config
from tests.emulator.test_aws_cli import AWS, aws_lambda

APP = """
import os

TAG = {tag!r}

def handler(event, context):
    print("ran", TAG, "as", os.environ["AWS_LAMBDA_FUNCTION_VERSION"])
    return {{"tag": TAG, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            "arn": context.invoked_function_arn, "greeting": os.environ.get("GREETING")}}
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:shop"


def write_code(code: Path, tag: str) -> None:
    (code / "app.py").write_text(APP.format(tag=tag))


def start(
    tmp_path: Path, state: Path | None = None, url_port: int | None = None
) -> EmulatorProcess:
    code = tmp_path / "code"
    if not code.exists():
        code.mkdir()
        write_code(code, "one")
    table: dict[str, Any] = {"handler": "app.handler", "environment": {"GREETING": "hi"}}
    if url_port is not None:
        table["url"] = {"port": url_port, "alias": "live"}
    (tmp_path / "f.toml").write_text(toml_config({"shop": table}, str(code)))
    args = ["--port", "0", "--config", str(tmp_path / "f.toml")]
    if state is not None:
        args += ["--state-dir", str(state)]
    return EmulatorProcess(args, tmp_path)


def call(client: Any, **kwargs: Any) -> tuple[dict[str, Any], str]:
    answer = client.invoke(FunctionName="shop", Payload=b"{}", **kwargs)
    return json.loads(answer["Payload"].read()), answer["ExecutedVersion"]


def publish_two(client: Any, code: Path) -> None:
    """Version 1 of code "one"; version 2 of code "two" with GREETING=hello."""
    assert client.publish_version(FunctionName="shop", Description="first")["Version"] == "1"
    write_code(code, "two")
    client.update_function_configuration(
        FunctionName="shop", Environment={"Variables": {"GREETING": "hello"}}
    )
    assert client.publish_version(FunctionName="shop")["Version"] == "2"


def test_publish_snapshots_code_and_configuration(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        first = client.publish_version(FunctionName="shop", Description="first")
        assert (first["Version"], first["FunctionArn"]) == ("1", ARN + ":1")
        assert first["Description"] == "first"
        # Nothing changed: no new version, the last one is the answer.
        assert client.publish_version(FunctionName="shop")["Version"] == "1"
        write_code(tmp_path / "code", "two")
        client.update_function_configuration(
            FunctionName="shop", Environment={"Variables": {"GREETING": "hello"}}
        )
        second = client.publish_version(FunctionName="shop")
        assert second["Version"] == "2"
        assert second["CodeSha256"] != first["CodeSha256"]
        write_code(tmp_path / "code", "three")  # $LATEST moves on; the versions do not
        assert call(client, Qualifier="1") == (
            {"tag": "one", "version": "1", "arn": ARN + ":1", "greeting": "hi"},
            "1",
        )
        assert call(client, Qualifier="2")[0]["tag"] == "two"
        assert call(client, Qualifier="2")[0]["greeting"] == "hello"
        latest, version = call(client)
        assert (latest["tag"], latest["version"], latest["arn"], version) == (
            "three",
            "$LATEST",
            ARN,
            "$LATEST",
        )
        listed = client.list_versions_by_function(FunctionName="shop")["Versions"]
        assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
        every = client.list_functions(FunctionVersion="ALL")["Functions"]
        assert [f["FunctionArn"] for f in every] == [ARN, ARN + ":1", ARN + ":2"]
        assert [f["Version"] for f in client.list_functions()["Functions"]] == ["$LATEST"]
        one = client.get_function_configuration(FunctionName="shop", Qualifier="1")
        assert one["Environment"]["Variables"] == {"GREETING": "hi"}
        assert one["CodeSha256"] == first["CodeSha256"]
        with pytest.raises(ClientError) as missing:
            client.get_function_configuration(FunctionName="shop", Qualifier="7")
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


@contextlib.contextmanager
def released(tmp_path: Path) -> Iterator[tuple[EmulatorProcess, Any]]:
    """An emulator with versions 1 and 2 published and alias "live" at 1, and its client."""
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        publish_two(client, tmp_path / "code")
        client.create_alias(FunctionName="shop", Name="live", FunctionVersion="1")
        yield emulator, client


def test_each_qualifier_form_runs_its_version(tmp_path: Path) -> None:
    with released(tmp_path) as (emulator, client):
        assert call(client, Qualifier="live") == (
            {"tag": "one", "version": "1", "arn": ARN + ":live", "greeting": "hi"},
            "1",
        )
        for identifier in ("shop:live", ARN + ":live", "123456789012:function:shop:live"):
            answer = client.invoke(FunctionName=identifier, Payload=b"{}")
            body = json.loads(answer["Payload"].read())
            assert (answer["ExecutedVersion"], body["arn"]) == ("1", ARN + ":live")
        answer = httpx.post(emulator.url + invoke_path("shop:2"), content=b"{}")
        assert (answer.headers["x-amz-executed-version"], answer.json()["tag"]) == ("2", "two")
        streamed = client.invoke_with_response_stream(FunctionName="shop", Qualifier="live")
        assert streamed["ExecutedVersion"] == "1"
        chunks = [
            e["PayloadChunk"]["Payload"] for e in streamed["EventStream"] if "PayloadChunk" in e
        ]
        assert json.loads(b"".join(chunks))["tag"] == "one"
        client.update_alias(FunctionName="shop", Name="live", FunctionVersion="2")
        assert call(client, Qualifier="live")[1] == "2"
        for qualifier in ("nope", "9"):
            missing = httpx.post(emulator.url + invoke_path(f"shop:{qualifier}"), content=b"{}")
            assert missing.status_code == 404
            assert missing.json()["message"] == f"Function not found: {ARN}:{qualifier}"


def test_a_weighted_alias_runs_both_versions(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        publish_two(client, tmp_path / "code")
        alias = client.create_alias(
            FunctionName="shop",
            Name="canary",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
        )
        assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
        runs = [call(client, Qualifier="canary") for _ in range(40)]
        assert {version for _, version in runs} == {"1", "2"}
        assert all(body["version"] == version for body, version in runs)
        assert all(body["arn"] == ARN + ":canary" for body, _ in runs)
        # Weight 0: all to the primary; the document says so.
        client.update_alias(
            FunctionName="shop",
            Name="canary",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}},
        )
        assert Counter(call(client, Qualifier="canary")[1] for _ in range(10)) == {"1": 10}
        listed = client.list_aliases(FunctionName="shop", FunctionVersion="2")["Aliases"]
        assert [a["Name"] for a in listed] == ["canary"]


def test_aliases_are_refused_as_lambda_refuses_them(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        publish_two(client, tmp_path / "code")
        created = client.create_alias(FunctionName="shop", Name="live", FunctionVersion="1")

        def code(**kwargs: Any) -> str:
            operation = kwargs.pop("operation", client.create_alias)
            with pytest.raises(ClientError) as refused:
                operation(FunctionName="shop", **kwargs)
            return str(refused.value.response["Error"]["Code"])

        assert code(Name="live", FunctionVersion="1") == "ResourceConflictException"
        assert code(Name="other", FunctionVersion="5") == "ResourceNotFoundException"
        assert code(Name="123", FunctionVersion="1") == "ValidationException"
        assert (
            code(
                Name="two",
                FunctionVersion="$LATEST",
                RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
            )
            == "InvalidParameterValueException"
        )
        assert (
            code(
                operation=client.update_alias,
                Name="live",
                FunctionVersion="2",
                RevisionId="stale",
            )
            == "PreconditionFailedException"
        )
        assert code(operation=client.get_alias, Name="gone") == "ResourceNotFoundException"
        with pytest.raises(ClientError) as stale:
            client.publish_version(FunctionName="shop", CodeSha256="bad")
        assert stale.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert "is different from current CodeSHA256 in $LATEST" in str(stale.value)
        got = client.get_alias(FunctionName="shop", Name="live")
        for document in (got, created):
            document.pop("ResponseMetadata")
        assert got == created
        assert created["AliasArn"] == ARN + ":live"
        client.delete_alias(FunctionName="shop", Name="live")
        assert client.list_aliases(FunctionName="shop")["Aliases"] == []


def test_versions_and_aliases_outlive_the_emulator(tmp_path: Path) -> None:
    state = Path(tempfile.mkdtemp(prefix="emulator-state-"))
    try:
        with start(tmp_path, state) as emulator:
            client = boto3_lambda(emulator.url)
            publish_two(client, tmp_path / "code")
            client.create_alias(FunctionName="shop", Name="live", FunctionVersion="1")
        write_code(tmp_path / "code", "later")
        with start(tmp_path, state) as emulator:
            client = boto3_lambda(emulator.url)
            assert call(client, Qualifier="live")[0]["tag"] == "one"
            assert call(client, Qualifier="2")[0]["tag"] == "two"
            assert client.publish_version(FunctionName="shop")["Version"] == "3"
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_an_aliases_function_url_runs_the_version_it_points_to(tmp_path: Path) -> None:
    with start(tmp_path, url_port=0) as emulator:
        client = boto3_lambda(emulator.url)
        publish_two(client, tmp_path / "code")
        url = next(line for line in emulator.lines if "function URL of shop" in line).split()[-1]
        assert httpx.get(url).status_code == 404  # no alias "live" yet
        client.create_alias(FunctionName="shop", Name="live", FunctionVersion="2")
        body = httpx.get(url).json()
        assert (body["tag"], body["version"], body["arn"]) == ("two", "2", ARN + ":live")


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_publishes_aliases_and_invokes_a_qualifier(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        published = aws_lambda(emulator, tmp_path, "publish-version", "--function-name", "shop")
        assert published.returncode == 0, published.stderr
        assert json.loads(published.stdout)["Version"] == "1"
        alias = aws_lambda(
            emulator, tmp_path, "create-alias", "--function-name", "shop",
            "--name", "live", "--function-version", "1",
        )  # fmt: skip
        assert alias.returncode == 0, alias.stderr
        assert json.loads(alias.stdout)["AliasArn"] == ARN + ":live"
        out = tmp_path / "out.json"
        done = aws_lambda(
            emulator, tmp_path, "invoke", "--function-name", "shop", "--qualifier", "live",
            str(out),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["ExecutedVersion"] == "1"
        assert json.loads(out.read_text())["arn"] == ARN + ":live"


def test_an_aliases_event_invoke_config_is_its_own(tmp_path: Path) -> None:
    with start(tmp_path) as emulator:
        client = boto3_lambda(emulator.url)
        client.publish_version(FunctionName="shop")
        client.create_alias(FunctionName="shop", Name="live", FunctionVersion="1")
        put = client.put_function_event_invoke_config(
            FunctionName="shop", Qualifier="live", MaximumRetryAttempts=0
        )
        assert put["FunctionArn"] == ARN + ":live"
        listed = client.list_function_event_invoke_configs(FunctionName="shop")
        assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [ARN + ":live"]
        with pytest.raises(ClientError) as missing:
            client.put_function_event_invoke_config(
                FunctionName="shop", Qualifier="nope", MaximumRetryAttempts=0
            )
        assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_event_through_an_alias_runs_its_version(tmp_path: Path) -> None:
    with released(tmp_path) as (emulator, client):
        accepted = client.invoke(FunctionName="shop", Qualifier="live", InvocationType="Event")
        assert accepted["StatusCode"] == 202
        assert "ExecutedVersion" not in accepted  # drawn when the event runs
        emulator.wait_for_line(lambda line: line.endswith("ran one as 1"))
        client.invoke(FunctionName="shop", Qualifier="2", InvocationType="Event")
        emulator.wait_for_line(lambda line: line.endswith("ran two as 2"))


def test_a_state_directory_inside_the_code_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP.format(tag="one"))
    base = ["--port", "0", "--code-dir", str(tmp_path)]
    refused = subprocess.run(
        [sys.executable, "-m", "emulator", *base, "--state-dir", str(tmp_path / "state"), "app.handler"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "is inside the code directory of function function" in refused.stderr
    hidden = ["--state-dir", str(tmp_path / ".state"), *base, "app.handler"]
    with EmulatorProcess(hidden, tmp_path) as emulator:  # a dot-directory is not code
        client = boto3_lambda(emulator.url)
        assert client.publish_version(FunctionName="function")["Version"] == "1"
        assert client.publish_version(FunctionName="function")["Version"] == "1"
