"""Layers: their contents seen as Lambda's /opt is, a later layer winning, by boto3.

Two layer directories each ship ``python/shared.py`` (the later one's is
imported) and a package under ``python/lib/pythonX.Y/site-packages``; the
second has ``bin/tool`` (run through PATH) and ``lib/`` (on LD_LIBRARY_PATH).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.harness import (
    EmulatorProcess,
    boto3_lambda,
    containing,
    layer_zip,
    toml_config,
)

APP = """
import os, subprocess, sys

import shared, pkg

def handler(event, context):
    opt = os.environ["RIC_OPT_DIR"]
    if event.get("scribble"):  # a function writing into its /opt
        with open(os.path.join(opt, "python", "shared.py"), "w") as out:
            out.write("WHO = 'scribbled'\\n")
    tool = subprocess.run(["tool"], capture_output=True, text=True, check=True)
    return {"shared": shared.WHO, "pkg": pkg.WHO, "tool": tool.stdout.strip(),
            "lib": os.listdir(os.path.join(opt, "lib")), "opt": opt,
            "ld": os.environ["LD_LIBRARY_PATH"], "path": os.environ["PATH"], "sys_path": sys.path}
"""
SITE = f"python/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"


def layer(root: Path, who: str, files: dict[str, str]) -> Path:
    for name, text in {
        "python/shared.py": f"WHO = {who!r}\n",
        f"{SITE}/pkg/__init__.py": f"WHO = {who!r}\n",
        **files,
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def emulator(tmp_path: Path) -> EmulatorProcess:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(APP)
    layer(tmp_path / "first", "first", {})
    second = layer(tmp_path / "second", "second", {"bin/tool": "#!/bin/sh\necho tool", "lib/x": ""})
    (second / "bin" / "tool").chmod(0o755)
    table = {"handler": "app.handler", "layers": ["first", "second"], "timeout": 30}
    (tmp_path / "f.toml").write_text(toml_config({"layered": table}, str(code)))
    return EmulatorProcess(
        ["--port", "0", "--watch", "--config", str(tmp_path / "f.toml")], tmp_path
    )


def call(client: Any, qualifier: str = "$LATEST") -> Any:
    answer = client.invoke(FunctionName="layered", Qualifier=qualifier, Payload=b"{}")
    return json.loads(answer["Payload"].read())


def edit_the_second_layer(emulator: EmulatorProcess, tmp_path: Path) -> str:
    """Its shared.py rewritten; the reload's line, once the warm environment is retired."""
    (tmp_path / "second" / "python" / "shared.py").write_text("WHO = 'edited'\n")
    return emulator.wait_for_line(containing("its layer"))


def test_a_layers_module_is_importable_and_a_later_layer_wins(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        answer = call(client)
        shown = client.get_function_configuration(FunctionName="layered")["Layers"]
        client.update_function_configuration(
            FunctionName="layered", Layers=[shown[1]["Arn"], shown[0]["Arn"]]
        )
        swapped = call(client)
    opt = answer["opt"]
    assert (answer["shared"], answer["pkg"], answer["tool"]) == ("second", "second", "tool")
    assert answer["lib"] == ["x"]
    code = str(tmp_path / "code")
    assert answer["ld"].split(":")[-3:] == [code, f"{code}/lib", f"{opt}/lib"]
    assert answer["path"].split(":")[-1] == f"{opt}/bin"
    # The task root, then the layers' site-packages, then their python/, as on Lambda.
    code = str(tmp_path / "code")
    assert answer["sys_path"][:3] == [code, f"{opt}/{SITE}", f"{opt}/python"]
    assert [entry["Arn"] for entry in shown] == [
        "arn:aws:lambda:us-east-1:123456789012:layer:first:1",
        "arn:aws:lambda:us-east-1:123456789012:layer:second:1",
    ]
    assert shown[0]["CodeSize"] == 2 * len("WHO = 'first'\n")
    assert (swapped["shared"], swapped["pkg"]) == ("first", "first")
    assert not os.path.exists(opt)  # the retired environment's /opt went with it


def test_an_edit_in_a_layer_retires_the_warm_environment(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        before = call(client)
        line = edit_the_second_layer(emulator, tmp_path)
        after = call(client)
    assert (before["shared"], after["shared"]) == ("second", "edited")
    assert line == (
        "[layered] shutting down environment 1: "
        f"its layer {tmp_path / 'second'} changed (python/shared.py)"
    )


def test_a_published_layer_version_is_listed_added_and_outlives_its_deletion(
    emulator: EmulatorProcess,
) -> None:
    content = layer_zip(
        {
            "python/shared.py": ("WHO = 'published'\n", 0o644),
            "bin/tool": ("#!/bin/sh\necho published tool\n", 0o755),
        }
    )
    with emulator:
        client = boto3_lambda(emulator.url)
        published = client.publish_layer_version(
            LayerName="tools", Content={"ZipFile": content}, CompatibleRuntimes=["python3.12"]
        )
        again = client.publish_layer_version(LayerName="tools", Content={"ZipFile": content})
        arn = published["LayerVersionArn"]
        got = client.get_layer_version(LayerName="tools", VersionNumber=1)
        by_arn = client.get_layer_version_by_arn(Arn=arn)
        versions = client.list_layer_versions(LayerName="tools")["LayerVersions"]
        layers = client.list_layers(CompatibleRuntime="python3.12")["Layers"]
        shown = client.get_function_configuration(FunctionName="layered")["Layers"]
        client.update_function_configuration(
            FunctionName="layered", Layers=[*(entry["Arn"] for entry in shown), arn]
        )
        answer = call(client)
        client.delete_layer_version(LayerName="tools", VersionNumber=1)
        after = client.get_function_configuration(FunctionName="layered")["Layers"]
        still = call(client)
        with pytest.raises(ClientError) as gone:
            client.get_layer_version(LayerName="tools", VersionNumber=1)
        with pytest.raises(ClientError) as refused:
            client.update_function_configuration(FunctionName="layered", Layers=[arn])
    assert arn == "arn:aws:lambda:us-east-1:123456789012:layer:tools:1"
    assert again["Version"] == 2
    assert got == {**got, **{k: published[k] for k in ("LayerVersionArn", "Content", "Version")}}
    assert by_arn["LayerVersionArn"] == arn
    assert [v["Version"] for v in versions] == [2, 1]
    # Only version 1 names python3.12: it is the latest that matches.
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [
        ("tools", 1)
    ]
    assert published["Content"]["CodeSize"] == len(content)
    assert (answer["shared"], answer["tool"]) == ("published", "published tool")
    assert after[-1] == {"Arn": arn, "CodeSize": len(content)}
    assert still["shared"] == "published"
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_a_published_version_keeps_its_layers_as_they_were(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        first = client.publish_version(FunctionName="layered")["Version"]
        same = client.publish_version(FunctionName="layered")["Version"]
        call(client)  # a warm $LATEST environment, for the reload to retire
        edit_the_second_layer(emulator, tmp_path)
        second = client.publish_version(FunctionName="layered")["Version"]
        answers = {q: call(client, q)["shared"] for q in (first, second, "$LATEST")}
        shown = client.get_function_configuration(FunctionName="layered", Qualifier=first)
    assert (first, same, second) == ("1", "1", "2")
    assert answers == {"1": "second", "2": "edited", "$LATEST": "edited"}
    assert [entry["Arn"].split(":")[-2] for entry in shown["Layers"]] == ["first", "second"]


def test_what_a_function_writes_in_its_opt_stays_in_its_environment(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    with emulator:
        client = boto3_lambda(emulator.url)
        answer = client.invoke(FunctionName="layered", Payload=b'{"scribble": true}')
        assert json.loads(answer["Payload"].read())["shared"] == "second"
    # Each environment has a copy of the layers: theirs are as they were, no bytecode in them.
    assert (tmp_path / "second" / "python" / "shared.py").read_text() == "WHO = 'second'\n"
    assert not list((tmp_path / "second").rglob("__pycache__"))
    assert not any("its layer" in line for line in emulator.lines)  # nothing to reload
