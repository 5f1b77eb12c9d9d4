"""The emulator's dependencies point one way (see emulator/app.py's map).

``http`` knows nothing of the emulator; ``core`` imports only itself (no asyncio,
no sockets); ``protocols`` only core; drivers never import the frontends.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "emulator"

# package -> the emulator packages (and stdlib modules) it must not import
FORBIDDEN = {
    "http": {"emulator.", "!emulator.http"},
    "core": {"emulator.", "!emulator.core", "asyncio", "socket", "emulator.http"},
    "protocols": {"emulator.", "!emulator.core", "!emulator.protocols", "!emulator.errors"},
    "observe": {"emulator.", "!emulator.core", "!emulator.observe", "asyncio"},
    "environments": {"emulator.frontends", "emulator.functions", "emulator.app"},
    "functions": {"emulator.frontends", "emulator.app"},
    "sqs": {"emulator.", "!emulator.core", "!emulator.sqs"},
    "sources": {"emulator.frontends", "emulator.app"},
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def breaks(module: str, rules: set[str]) -> bool:
    allowed = [r[1:] for r in rules if r.startswith("!")]
    if any(module == a or module.startswith(a + ".") for a in allowed):
        return False
    banned = [r for r in rules if not r.startswith("!")]
    return any(module == b or module.startswith(b if b.endswith(".") else b + ".") for b in banned)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    wrong = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in (PACKAGE / package).rglob("*.py")
        for module in imports(path)
        if breaks(module, FORBIDDEN[package])
    }
    assert not wrong
