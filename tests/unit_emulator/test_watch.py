"""emulator.functions.watch: the files that changed since the last look."""

from __future__ import annotations

import os
from pathlib import Path

from emulator.functions.watch import CodeWatch


def test_added_changed_and_removed_files_are_named_and_caches_are_not(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("v1")
    (tmp_path / "gone.txt").write_text("x")
    watch = CodeWatch(str(tmp_path))
    assert watch.changed() == []
    (tmp_path / "app.py").write_text("v2 longer")
    (tmp_path / "gone.txt").unlink()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "new.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "app.pyc").write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("")
    assert watch.changed() == ["app.py", "gone.txt", os.path.join("pkg", "new.py")]
    assert watch.changed() == []


def test_a_rewrite_of_the_same_size_is_seen_by_its_time(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("v1")
    watch = CodeWatch(str(tmp_path))
    app.write_text("v2")
    stat = app.stat()
    os.utime(app, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert watch.changed() == ["app.py"]


def test_a_functions_watch_names_its_code_and_each_layer_that_changed(tmp_path: Path) -> None:
    from emulator.functions.watch import FunctionWatch

    code, layer, added = tmp_path / "code", tmp_path / "layer", tmp_path / "added"
    for folder in (code, layer, added):
        folder.mkdir()
    watch = FunctionWatch(str(code), (str(layer),))
    assert watch.changed(str(code), (str(layer),)) is None
    (code / "app.py").write_text("x")
    for name in "abcd":
        (layer / f"{name}.py").write_text("x")
    assert watch.changed(str(code), (str(layer),)) == (
        f"its code changed (app.py); its layer {layer} changed (a.py, b.py, c.py and 1 more)"
    )
    # A layer given later (UpdateFunctionConfiguration) is watched from then on.
    assert watch.changed(str(code), (str(added),)) is None
    (added / "new.py").write_text("x")
    assert watch.changed(str(code), (str(added),)) == f"its layer {added} changed (new.py)"
