"""Every module of ric and of the emulator declares a complete and importable ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import emulator
import ric

MODULES = [package.__name__ for package in (ric, emulator)] + sorted(
    info.name
    for package in (ric, emulator)
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
)


def test_every_module_is_checked() -> None:
    wanted = {"ric.wire", "ric.runtime", "ric.__main__", "emulator.core.lifecycle", "emulator.http"}
    assert wanted <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_a_list_of_unique_strings(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert all(isinstance(item, str) for item in exported)
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_resolves(name: str) -> None:
    module = importlib.import_module(name)
    assert [item for item in module.__all__ if not hasattr(module, item)] == []
    exec(f"from {name} import *", {})


@pytest.mark.parametrize("name", MODULES)
def test_public_definitions_are_exported(name: str) -> None:
    module = importlib.import_module(name)
    defined = {
        item
        for item, value in vars(module).items()
        if not item.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    assert defined - set(module.__all__) == set()
