"""Published layer versions (PublishLayerVersion), kept as files.

Each version is a folder ``ROOT/NAME/VERSION/``: ``layer.zip`` as uploaded,
``content/`` (what a function's /opt merges) and ``layer.json`` (its
document). Version numbers only grow: ``ROOT/NAME/last`` keeps the last one
given, so a deleted version's number is never given again, as on Lambda.
A deleted version's ``layer.json`` is renamed ``deleted.json``: the version
is no longer listed nor added to a function, but a function that has it
keeps it ("Adding layers to functions": functions can continue to use a
layer version after it has been deleted). ROOT is ``layers/`` in the state
directory, or a temporary directory for an emulator without one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from emulator.core.stamps import api_timestamp
from emulator.errors import ApiError

__all__ = ["UNZIPPED_LIMIT", "ZIPPED_LIMIT", "LayerStore", "layer_name", "published_entry"]

# "Lambda quotas": a function and its layers, unzipped, 250 MB; an archive uploaded
# directly (not through S3), 50 MB.
UNZIPPED_LIMIT = 262_144_000
ZIPPED_LIMIT = 52_428_800
_NAME = re.compile(r"^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:)?([a-zA-Z0-9_-]{1,140})$")
_FIELDS = ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo")


def layer_name(text: str) -> str:
    """A LayerName path parameter (a name or a layer's ARN) as the name; else a 400."""
    match = _NAME.match(text)
    if match is None:
        raise _invalid(f"{text!r} is not a layer name or a layer ARN")
    return match.group(2)


class LayerStore:
    """The layer versions under ``root`` (None: a temporary directory until :meth:`close`)."""

    def __init__(self, root: Path | None, region: str) -> None:
        # Absolute: the folders handed to functions must not depend on the cwd.
        self._root = root.absolute() if root is not None else None
        self._temporary = root is None
        self._region = region
        self._publishing = threading.Lock()  # each publish takes the next number

    @property
    def root(self) -> Path:
        """The versions' folder; a temporary one is made when first needed."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="emulator-layers-"))
        return self._root

    def close(self) -> None:
        if self._temporary and self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def layer_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self._region}:123456789012:layer:{name}"

    # -- the operations ----------------------------------------------------------------

    def publish(self, name: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
        """PublishLayerVersion: ``fields`` its request document (``Content.ZipFile`` base64).

        Unpacked beside the versions first, then moved into place whole: an archive that
        cannot be unpacked leaves nothing behind. One at a time (calls come from threads).
        """
        archive = _archive(fields.get("Content"))
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".publishing-", dir=folder))
        try:
            (staging / "layer.zip").write_bytes(archive)
            _unpack(archive, staging / "content")
            with self._publishing:
                version = _next_version(folder)
                document = self._document(name, version, archive, fields, now)
                (staging / "layer.json").write_text(json.dumps(document))
                staging.rename(folder / str(version))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return document

    def get(self, name: str, version: int) -> dict[str, Any]:
        found = self.root / name / str(version) / "layer.json"
        try:
            document: dict[str, Any] = json.loads(found.read_text())
        except OSError:
            raise ApiError(
                404,
                "ResourceNotFoundException",
                "The resource you requested does not exist.",
            ) from None
        return document

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of ``name`` still published, the newest first."""
        folder = self.root / name
        numbers = (
            [int(p.name) for p in folder.iterdir() if p.name.isdecimal()] if folder.is_dir() else []
        )
        found = [folder / str(n) / "layer.json" for n in sorted(numbers, reverse=True)]
        return [json.loads(path.read_text()) for path in found if path.exists()]

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def delete(self, name: str, version: int) -> None:
        """DeleteLayerVersion: gone from the lists; nothing happens for one not published."""
        found = self.root / name / str(version) / "layer.json"
        if found.exists():
            found.rename(found.with_name("deleted.json"))

    # -- for functions ---------------------------------------------------------------------

    def folder_of(self, arn: str) -> str | None:
        """The content folder of a published version's ARN (None: not one still published)."""
        head, _, version = arn.rpartition(":")
        name = head.rpartition(":")[2]
        if head != self.layer_arn(name) or not version.isdecimal():
            return None
        where = self.root / name / str(int(version))
        return str(where / "content") if (where / "layer.json").exists() else None

    def _document(
        self, name: str, version: int, archive: bytes, fields: dict[str, Any], now: float
    ) -> dict[str, Any]:
        digest = base64.b64encode(hashlib.sha256(archive).digest()).decode()
        where = self.root / name / str(version) / "layer.zip"
        document: dict[str, Any] = {
            "Content": {
                "Location": where.as_uri(),
                "CodeSha256": digest,
                "CodeSize": len(archive),
            },
            "LayerArn": self.layer_arn(name),
            "LayerVersionArn": f"{self.layer_arn(name)}:{version}",
            "CreatedDate": api_timestamp(now),
            "Version": version,
        }
        document.update({key: fields[key] for key in _FIELDS if key in fields})
        document.setdefault("Description", "")
        return document


def published_entry(folder: str) -> dict[str, Any] | None:
    """A function's ``Layers`` entry for the content folder of a published version, deleted
    or not (None: ``folder`` is not one): found beside it, as :meth:`LayerStore.publish`
    left it."""
    where = Path(folder).parent
    if Path(folder).name != "content":
        return None
    for kept in ("layer.json", "deleted.json"):
        if (where / kept).exists():
            document = json.loads((where / kept).read_text())
            return {"Arn": document["LayerVersionArn"], "CodeSize": _size(document)}
    return None


def _size(document: dict[str, Any]) -> int:
    size: int = document["Content"]["CodeSize"]
    return size


def _archive(content: Any) -> bytes:
    if not isinstance(content, dict) or "ZipFile" not in content:
        raise _invalid("give the layer's content as Content.ZipFile (S3 is not served here)")
    try:
        archive = base64.b64decode(str(content["ZipFile"]), validate=True)
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            unzipped = sum(info.file_size for info in opened.infolist())
    except (ValueError, zipfile.BadZipFile):
        raise _invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    if len(archive) > ZIPPED_LIMIT:  # its base64 would be over the request's limit
        raise ApiError(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {-(-ZIPPED_LIMIT * 4 // 3)} bytes for the "
            "PublishLayerVersion operation",
        )
    if unzipped > UNZIPPED_LIMIT:
        raise _invalid(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
    return archive


def _unpack(archive: bytes, target: Path) -> None:
    """The archive's files under ``target``, with the modes the archive gives them
    (a layer's ``bin/`` tools must stay executable); a 400 when it cannot be unpacked
    (a file where a directory goes, a damaged entry)."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            for info in opened.infolist():
                if stat.S_ISLNK(info.external_attr >> 16):  # a library's version link
                    _link(opened.read(info).decode(), info.filename, target)
                    continue
                path = opened.extract(info, target)  # never outside target: zipfile's care
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    os.chmod(path, mode)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _invalid(
            f"Could not unzip uploaded file. Please check your file, then try to upload "
            f"again. ({exc})"
        ) from None


def _link(pointee: str, name: str, target: Path) -> None:
    """A symbolic link of the archive, made as one, if it and what it points to stay
    inside ``target`` (a link out of the layer would reach the emulator's machine)."""
    root = os.path.realpath(target)
    where = os.path.normpath(os.path.join(root, name.lstrip("/")))
    pointed = os.path.normpath(os.path.join(os.path.dirname(where), pointee))
    if os.path.isabs(pointee) or not all(
        path.startswith(root + os.sep) for path in (where, pointed)
    ):
        raise _invalid(f"the archive's link {name} -> {pointee} points outside the layer")
    os.makedirs(os.path.dirname(where), exist_ok=True)
    os.symlink(pointee, where)


def _next_version(folder: Path) -> int:
    last = folder / "last"
    version = int(last.read_text()) + 1 if last.exists() else 1
    last.write_text(str(version))
    return version


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterValueException", message)
