"""Every ric module declares a complete and importable ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import ric

MODULES = ["ric", *sorted(info.name for info in pkgutil.iter_modules(ric.__path__, "ric."))]


def test_every_module_is_checked() -> None:
    assert {"ric.wire", "ric.runtime", "ric.__main__"} <= set(MODULES)


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
