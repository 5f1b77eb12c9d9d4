"""emulator.functions.publish: a version's code snapshot and its configuration document."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from emulator.config import FunctionConfig, UrlConfig, bootstrap_command
from emulator.functions.publish import copy_code, from_document, same_configuration, to_document


def function(tmp_path: Path, **changes: Any) -> FunctionConfig:
    base = FunctionConfig(
        "shop",
        ("/bin/sh", "bootstrap", "app.handler"),
        str(tmp_path),
        handler="app.handler",
        environment={"A": "1"},
        url=UrlConfig(0),
        watch=True,
    )
    return dataclasses.replace(base, **changes)


def test_the_document_round_trips_through_json_without_what_a_version_lacks(
    tmp_path: Path,
) -> None:
    latest = function(tmp_path, retry_delays_s=(1.0, 2.0), memory_mb=256)
    document = json.loads(json.dumps(to_document(latest)))
    assert "url" not in document and "watch" not in document
    version = from_document({**document, "version": "4"})
    assert version.command == latest.command and version.retry_delays_s == (1.0, 2.0)
    assert (version.memory_mb, version.version, version.url, version.watch) == (
        256,
        "4",
        None,
        False,
    )


def test_sameness_ignores_the_version_and_the_code_folder(tmp_path: Path) -> None:
    latest = function(tmp_path)
    version = dataclasses.replace(latest, version="1", code_dir="/elsewhere", watch=False)
    assert same_configuration(version, latest)
    assert not same_configuration(version, dataclasses.replace(latest, environment={"A": "2"}))
    assert not same_configuration(version, dataclasses.replace(latest, timeout_s=9.0))


def test_the_code_is_copied_as_code_reload_sees_it(tmp_path: Path) -> None:
    source = tmp_path / "code"
    (source / "pkg").mkdir(parents=True)
    (source / "app.py").write_text("A = 1\n")
    (source / "pkg" / "mod.py").write_text("B = 2\n")
    (source / "pkg" / ".libs").mkdir()  # a wheel's own, deeper down: code
    (source / "pkg" / ".libs" / "inner.so").write_bytes(b"\0")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.pyc").write_bytes(b"\0")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref\n")
    target = tmp_path / "versions" / "shop" / "1"
    target.mkdir(parents=True)
    (target / "stale.py").write_text("left from a forgotten state\n")
    copy_code(str(source), target)
    copied = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert copied == ["app.py", "pkg/.libs/inner.so", "pkg/mod.py"]
    (source / "app.py").write_text("A = 2\n")  # the copy is a snapshot
    assert (target / "app.py").read_text() == "A = 1\n"


def test_an_empty_code_directory_has_a_version_too(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    copy_code(str(tmp_path / "empty"), tmp_path / "v1")
    assert (tmp_path / "v1").is_dir()


def test_a_version_of_rics_bootstrap_runs_the_ric_installed_now(tmp_path: Path) -> None:
    moved = ("/bin/sh", "/gone/venv/lib/python3.11/site-packages/ric/bootstrap", "app.handler")
    document = to_document(function(tmp_path, command=moved))
    assert from_document(document).command == bootstrap_command("app.handler")
    other = ("/bin/sh", "/opt/my/bootstrap", "app.handler")  # a runtime of the user's own
    assert from_document(to_document(function(tmp_path, command=other))).command == other
