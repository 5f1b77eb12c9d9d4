"""ric.oninit: the init hooks' registry and how a failing hook is reported."""

from __future__ import annotations

from typing import Any

import pytest

import ric
from ric.errors import UserInitError
from ric.oninit import InitHooks, registry


def test_on_init_registers_in_the_process_registry_and_returns_the_hook() -> None:
    def hook() -> None:
        pass

    assert ric.on_init(hook) is hook
    assert registry().hooks[-1] is hook
    registry().hooks.remove(hook)


def test_hooks_run_in_order_and_awaitables_are_handed_on() -> None:
    ran: list[Any] = []

    class Awaitable:
        def __await__(self) -> Any:
            yield

    awaitable = Awaitable()
    hooks = InitHooks()
    hooks.add(lambda: ran.append("first"))
    hooks.add(lambda: awaitable)
    hooks.run(ran.append)
    assert ran == ["first", awaitable]


def test_a_failing_hook_is_a_user_init_error_of_its_class_name() -> None:
    def broken() -> None:
        raise LookupError("missing")

    hooks = InitHooks()
    hooks.add(broken)
    with pytest.raises(UserInitError) as raised:
        hooks.run(lambda awaitable: None)
    error = raised.value
    assert (error.error_type, error.message) == ("LookupError", "missing")
    assert isinstance(error.user_exception, LookupError)


def test_a_hook_must_be_callable() -> None:
    with pytest.raises(TypeError, match="on_init needs a callable, not int"):
        InitHooks().add(1)  # type: ignore[type-var]
