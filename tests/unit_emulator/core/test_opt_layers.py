"""emulator.core.layers: which layer wins an entry of /opt, and the paths a runtime gets."""

from __future__ import annotations

import pytest

from emulator.core.layers import layer_variables, python_paths, sources


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([False], (0,)),  # one layer's file
        ([True], (0,)),  # one layer's directory, taken whole
        ([False, False, False], (2,)),  # the last file replaces the others
        ([True, True], (0, 1)),  # two directories: merged, in order
        ([True, False], (1,)),  # a file over a directory replaces it
        ([False, True], (1,)),  # a directory over a file: the file is gone
        ([True, False, True, True], (2, 3)),  # directories since the last file merge
    ],
)
def test_a_later_layer_wins_and_directories_merge(
    entries: list[bool], expected: tuple[int, ...]
) -> None:
    assert sources(entries) == expected


def test_the_python_path_has_site_packages_before_python_as_lambda_orders_them() -> None:
    assert python_paths("/opt", (3, 12)) == [
        "/opt/python/lib/python3.12/site-packages",
        "/opt/python",
    ]


def test_bin_and_lib_come_after_what_the_runtime_has_and_python_before() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "/mine"}
    assert layer_variables("/o", (3, 11), env) == {
        "PYTHONPATH": "/o/python/lib/python3.11/site-packages:/o/python:/mine",
        "PATH": "/usr/bin:/bin:/o/bin",
        "LD_LIBRARY_PATH": "/o/lib",
        "RIC_OPT_DIR": "/o",
    }
