"""Layers: the merged /opt of an environment, their configuration and their ARNs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.__main__ import parse_config
from emulator.config import FunctionConfig, load_toml
from emulator.environments.opt import OptDir, with_layers
from emulator.errors import ApiError, ConfigError
from emulator.frontends.layers import LayerCatalog, layer_arn, layer_documents


def make(root: Path, files: dict[str, str]) -> str:
    root.mkdir(parents=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_a_later_layer_replaces_an_earlier_ones_files_and_directories_merge(
    tmp_path: Path,
) -> None:
    first = make(tmp_path / "a", {"python/shared.py": "a", "python/only_a.py": "a", "bin/t": "a"})
    second = make(tmp_path / "b", {"python/shared.py": "b", "lib/x.so": "b"})
    opt = OptDir([first, second])
    try:
        root = Path(opt.path)
        seen = {
            os.path.relpath(os.path.join(folder, name), root): Path(folder, name).read_text()
            for folder, _, names in os.walk(root, followlinks=True)
            for name in names
        }
        # A copy, not links: what the function writes stays in its environment.
        assert not any(path.is_symlink() for path in root.rglob("*"))
        (root / "bin" / "t").write_text("written")
        assert Path(first, "bin", "t").read_text() == "a"
    finally:
        opt.close()
    assert seen == {
        "python/shared.py": "b",
        "python/only_a.py": "a",
        "bin/t": "a",  # as it was copied, before the write
        "lib/x.so": "b",
    }
    assert not os.path.exists(opt.path)


def test_no_layers_no_directory_and_the_environment_untouched() -> None:
    env = {"PATH": "/bin"}
    assert with_layers((), env) is None
    assert env == {"PATH": "/bin"}


def test_a_layer_that_cannot_be_read_leaves_nothing_behind(tmp_path: Path) -> None:
    parent = tmp_path / "tmp"
    parent.mkdir()
    with pytest.raises(OSError):
        OptDir([str(tmp_path / "gone")], parent=str(parent))
    assert list(parent.iterdir()) == []


def function(*layers: str) -> FunctionConfig:
    return FunctionConfig("f", ("true",), "/", layers=layers)


def test_more_than_five_layers_or_a_missing_one_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="5 layers at most, not 6"):
        function(*[str(tmp_path)] * 6)
    with pytest.raises(ConfigError, match=r"no layer directory .*missing"):
        function(str(tmp_path / "missing"))


def test_toml_layers_are_taken_from_the_files_directory_and_cli_layers_are_the_default(
    tmp_path: Path,
) -> None:
    for name in ("one", "two", "cli"):
        (tmp_path / name).mkdir()
    toml = tmp_path / "f.toml"
    toml.write_text(
        '[functions.a]\nhandler = "app.h"\nlayers = ["one", "two"]\n'
        '[functions.b]\nhandler = "app.h"\n'
    )
    a, b = load_toml(toml)
    assert a.layers == (str(tmp_path / "one"), str(tmp_path / "two"))
    assert b.layers == ()
    config = parse_config(
        ["--config", str(toml), "--layer", str(tmp_path / "cli")], {"HOME": str(tmp_path)}
    )
    assert [f.layers for f in config.functions] == [a.layers, (str(tmp_path / "cli"),)]
    toml.write_text('[functions.a]\nhandler = "app.h"\nlayers = "one"\n')
    with pytest.raises(ConfigError, match="layers must be an array"):
        load_toml(toml)


def test_the_zero_config_form_takes_repeated_layers_in_order(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    argv = ["--layer", str(tmp_path / "y"), "--layer", str(tmp_path / "x"), "app.handler"]
    (single,) = parse_config(argv, {"HOME": str(tmp_path)}).functions
    assert single.layers == (str(tmp_path / "y"), str(tmp_path / "x"))


def test_layers_are_shown_with_a_local_arn_and_their_size(tmp_path: Path) -> None:
    layer = make(tmp_path / "my layer.v2", {"python/m.py": "12345", "bin/t": "1"})
    assert (
        layer_arn("eu-west-1", layer) == "arn:aws:lambda:eu-west-1:123456789012:layer:my-layer-v2:1"
    )
    assert layer_documents(function(layer)) == [
        {"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:my-layer-v2:1", "CodeSize": 6}
    ]


def test_the_catalog_resolves_known_layer_arns_and_refuses_others(tmp_path: Path) -> None:
    one, two = make(tmp_path / "one", {}), make(tmp_path / "two", {})
    same = make(tmp_path / "elsewhere" / "one", {})
    functions = {"f": function(one, two)}
    catalog = LayerCatalog(functions)
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:{}:1".format
    assert catalog.resolve([arn("two"), arn("one")], str(tmp_path)) == (two, one)
    functions["f"] = function()  # the declared ones stay known
    assert catalog.resolve([arn("one")], str(tmp_path)) == (one,)
    for bad, message in [
        ("x", "must be a list"),
        ([arn("nope")], "neither published nor one of this emulator's layer directories"),
        ([arn("one")] * 6, "more than 5 layers"),
    ]:
        with pytest.raises(ApiError, match=message) as refused:
            catalog.resolve(bad, str(tmp_path))
        assert refused.value.error_type == "InvalidParameterValueException"
    functions["g"] = function(same)  # two directories named "one": which one is not known
    with pytest.raises(ApiError, match="names two of them"):
        catalog.resolve([arn("one")], str(tmp_path))
