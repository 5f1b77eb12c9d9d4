"""emulator.functions.publish: a version's layers are copies, compared by their files."""

from __future__ import annotations

import base64
from pathlib import Path

from emulator.functions.publish import copy_layers, same_layers
from emulator.state.layers import LayerStore
from tests.emulator.harness import layer_zip


def test_layer_directories_are_copied_by_name_and_published_versions_kept(tmp_path: Path) -> None:
    layer = tmp_path / "shared"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "m.py").write_text("X = 1\n")
    store = LayerStore(tmp_path / "published", "us-east-1")
    archive = base64.b64encode(layer_zip({"bin/t": ("", 0o755)})).decode()
    store.publish("tools", {"Content": {"ZipFile": archive}}, 0.0)
    published = str(tmp_path / "published" / "tools" / "1" / "content")
    copies = copy_layers((str(layer), published), tmp_path / "1.layers")
    assert copies == (str(tmp_path / "1.layers" / "0" / "shared"), published)
    assert (Path(copies[0]) / "python" / "m.py").read_text() == "X = 1\n"
    assert same_layers((str(layer), published), copies)
    (layer / "python" / "m.py").write_text("X = 2\n")
    assert not same_layers((str(layer), published), copies)
    assert not same_layers((str(layer),), copies)
