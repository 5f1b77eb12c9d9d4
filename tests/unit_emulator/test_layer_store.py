"""emulator.state.layers: published layer versions, as files."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from emulator.errors import ApiError
from emulator.frontends.layers import LayerCatalog, layer_documents
from emulator.state.layers import LayerStore, layer_name, published_entry
from tests.emulator.harness import layer_zip

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:tools"


def archive(files: dict[str, tuple[str, int]]) -> str:
    return base64.b64encode(layer_zip(files)).decode()


def refused(error: pytest.ExceptionInfo[ApiError]) -> tuple[int, str]:
    return error.value.status, error.value.error_type


def test_versions_are_numbered_unpacked_with_their_modes_and_never_reused(tmp_path: Path) -> None:
    store = LayerStore(tmp_path, "us-east-1")
    zipped = archive({"bin/tool": ("#!/bin/sh\n", 0o755), "python/m.py": ("X = 1\n", 0o644)})
    first = store.publish("tools", {"Content": {"ZipFile": zipped}, "LicenseInfo": "MIT"}, 0.5)
    folder = store.folder_of(ARN + ":1")
    assert folder == str(tmp_path / "tools" / "1" / "content")
    assert os.access(Path(folder) / "bin" / "tool", os.X_OK)
    assert (Path(folder) / "python" / "m.py").read_text() == "X = 1\n"
    assert first["LayerVersionArn"] == ARN + ":1"
    assert (first["Version"], first["LicenseInfo"], first["Description"]) == (1, "MIT", "")
    assert first["CreatedDate"] == "1970-01-01T00:00:00.500+0000"
    assert first["Content"]["CodeSize"] == len(base64.b64decode(zipped))
    second = store.publish("tools", {"Content": {"ZipFile": zipped}}, 1.0)
    store.delete("tools", 2)
    store.delete("tools", 7)  # not published: nothing happens
    third = store.publish("tools", {"Content": {"ZipFile": zipped}}, 2.0)
    assert (second["Version"], third["Version"]) == (2, 3)
    assert [v["Version"] for v in store.versions("tools")] == [3, 1]
    assert store.names() == ["tools"]
    assert store.versions("nothing") == []
    # A deleted version is no longer added to a function, but one that has it still shows it.
    assert store.folder_of(ARN + ":2") is None
    deleted = str(tmp_path / "tools" / "2" / "content")
    size = first["Content"]["CodeSize"]
    assert published_entry(deleted) == {"Arn": ARN + ":2", "CodeSize": size}
    assert published_entry(str(tmp_path / "elsewhere")) is None
    assert published_entry(str(tmp_path / "tools" / "9" / "content")) is None
    assert json.loads((tmp_path / "tools" / "3" / "layer.json").read_text()) == third


def test_bad_content_and_names_are_refused_as_lambda_refuses_them(tmp_path: Path) -> None:
    store = LayerStore(tmp_path, "us-east-1")
    for content in (None, {"S3Bucket": "b", "S3Key": "k"}, {"ZipFile": "not base64!"}):
        with pytest.raises(ApiError) as error:
            store.publish("x", {"Content": content}, 0.0)
        assert refused(error) == (400, "InvalidParameterValueException")
    with pytest.raises(ApiError) as missing:
        store.get("x", 1)
    assert refused(missing) == (404, "ResourceNotFoundException")
    assert layer_name(ARN) == layer_name("tools") == "tools"
    with pytest.raises(ApiError, match="not a layer name"):
        layer_name("no/such")
    assert store.folder_of("arn:aws:lambda:eu-west-1:123456789012:layer:tools:1") is None
    assert store.folder_of(ARN + ":latest") is None


def test_an_emulator_without_a_state_directory_keeps_them_in_a_temporary_one() -> None:
    store = LayerStore(None, "us-east-1")
    store.close()  # nothing was made: nothing to remove
    store.publish("t", {"Content": {"ZipFile": archive({"a": ("", 0)})}}, 0.0)
    root = store.root
    assert (root / "t" / "1" / "content" / "a").exists()
    store.close()
    assert not root.exists()


def test_the_catalog_resolves_published_versions_and_shows_their_arn(tmp_path: Path) -> None:
    from emulator.config import FunctionConfig

    store = LayerStore(tmp_path, "us-east-1")
    store.publish("tools", {"Content": {"ZipFile": archive({"a": ("12", 0)})}}, 0.0)
    catalog = LayerCatalog({}, store)
    (folder,) = catalog.resolve([ARN + ":1"], str(tmp_path))
    shown = layer_documents(FunctionConfig("f", ("true",), "/", layers=(folder,)))
    assert [entry["Arn"] for entry in shown] == [ARN + ":1"]


def test_entries_that_climb_out_stay_inside_the_content(tmp_path: Path) -> None:
    store = LayerStore(tmp_path / "layers", "us-east-1")
    escaping = {"../../../escaped.txt": ("x", 0o644), "/abs/escaped.txt": ("x", 0o644)}
    store.publish("slip", {"Content": {"ZipFile": archive(escaping)}}, 0.0)
    content = tmp_path / "layers" / "slip" / "1" / "content"
    assert sorted(str(p.relative_to(content)) for p in content.rglob("*.txt")) == [
        "abs/escaped.txt",
        "escaped.txt",
    ]
    assert not list(tmp_path.glob("escaped.txt"))
    assert [p.name for p in tmp_path.iterdir()] == ["layers"]


def test_an_archive_that_cannot_be_unpacked_is_a_400_and_leaves_nothing(tmp_path: Path) -> None:
    store = LayerStore(tmp_path, "us-east-1")
    clash = {"python/x": ("a file", 0o644), "python/x/y.py": ("under the file", 0o644)}
    with pytest.raises(ApiError) as error:
        store.publish("clash", {"Content": {"ZipFile": archive(clash)}}, 0.0)
    assert refused(error) == (400, "InvalidParameterValueException")
    assert "Could not unzip uploaded file" in error.value.message
    assert [p.name for p in (tmp_path / "clash").iterdir()] == []  # no version, no number
    good = store.publish("clash", {"Content": {"ZipFile": archive({"a.py": ("", 0o644)})}}, 0.0)
    assert good["Version"] == 1


def test_two_versions_of_one_layer_are_refused_for_one_function(tmp_path: Path) -> None:
    catalog = LayerCatalog({}, LayerStore(tmp_path, "us-east-1"))
    for arns in ([ARN + ":1", ARN + ":2"], [ARN + ":1", ARN + ":1"]):
        with pytest.raises(ApiError) as error:
            catalog.resolve(arns, str(tmp_path))
        assert refused(error) == (400, "InvalidParameterValueException")
        assert "are versions of the same layer" in error.value.message


def test_the_code_and_its_layers_must_fit_in_250_mb(tmp_path: Path) -> None:
    store = LayerStore(tmp_path / "layers", "us-east-1")
    store.publish("big", {"Content": {"ZipFile": archive({"a.py": ("x" * 1000, 0o644)})}}, 0.0)
    code = tmp_path / "code"
    code.mkdir()
    with open(code / "huge.bin", "wb") as out:  # sparse: big, but nothing written
        out.truncate(262_144_000 - 999)
    catalog = LayerCatalog({}, store)
    with pytest.raises(ApiError) as error:
        catalog.resolve([ARN.replace("tools", "big") + ":1"], str(code))
    assert refused(error) == (400, "InvalidParameterValueException")
    assert "The actual size is 262144001 bytes" in error.value.message


def test_an_archive_over_50_mb_is_too_large(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as stored:
        stored.writestr("big.bin", os.urandom(52_428_800))
    zipped = base64.b64encode(buffer.getvalue()).decode()
    with pytest.raises(ApiError) as error:
        LayerStore(tmp_path, "us-east-1").publish("big", {"Content": {"ZipFile": zipped}}, 0.0)
    assert refused(error) == (413, "RequestEntityTooLargeException")
    assert "smaller than 69905067 bytes" in error.value.message


def link_zip(name: str, pointee: str) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lib/libfoo.so.1", "the library")
        link = zipfile.ZipInfo(name)
        link.external_attr = (0o120777) << 16
        archive.writestr(link, pointee)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_link_in_the_archive_is_a_link_if_it_stays_inside(tmp_path: Path) -> None:
    store = LayerStore(tmp_path / "layers", "us-east-1")
    store.publish("libs", {"Content": {"ZipFile": link_zip("lib/libfoo.so", "libfoo.so.1")}}, 0.0)
    linked = tmp_path / "layers" / "libs" / "1" / "content" / "lib" / "libfoo.so"
    assert (os.readlink(linked), linked.read_text()) == ("libfoo.so.1", "the library")
    for name, pointee in (("lib/out", "../../../../etc/passwd"), ("lib/abs", "/etc/passwd")):
        with pytest.raises(ApiError) as error:
            store.publish("libs", {"Content": {"ZipFile": link_zip(name, pointee)}}, 0.0)
        assert refused(error) == (400, "InvalidParameterValueException")
        assert "points outside the layer" in error.value.message
