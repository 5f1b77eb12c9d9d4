"""Event decoding and result encoding.

Decoding has the stdlib's semantics everywhere (integers of any size stay
exact; NaN and Infinity literals are refused) and runs in CPython's C
accelerator ``_json`` without importing the ``json`` package (and ``re``):
already on disk, it imports in microseconds. Events of 64 KiB or more go to
orjson first, which decodes them two to five times faster; its answer is kept
only when it cannot differ from the stdlib's. orjson turns integers beyond 64
bits into floats of magnitude 2**63 or more, so a decoded value holding such a
float is decoded again by ``_json``; so is anything orjson refuses (lone
surrogates, NaN literals), and the stdlib words the error. Checking the decoded
value costs less than what orjson saves, even for events made of numbers.

Encoding starts in ``_json`` too and moves to orjson, for good, once orjson is
loaded: when an event or a result of 64 KiB or more shows up (orjson encodes
large values 10 to 50 times faster, which repays its ~15 ms import), or when a
``Decimal`` does (orjson keeps its digits). orjson would also encode what the
managed runtime refuses (``datetime``, ``date``, ``time``, ``UUID``, plain
``Enum`` members, dataclasses; and subclasses of ``str``, ``int``, ``dict`` or
``list`` its own way), so a value goes to orjson only when a scan of it finds
nothing but ``dict`` with keys of ``str``, ``int``, ``bool`` or ``None``,
``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool``, ``None`` and
``Decimal``, exactly those types, where orjson and the stdlib agree (orjson's
passthrough options refuse the datetime types, dataclasses and subclasses
should one get past). Anything else, and what orjson refuses (integers beyond
64 bits), goes to the stdlib ``json`` module, which accepts what awslambdaric
accepts (an ``IntEnum`` is its number) and words errors as awslambdaric does
("Object of type UUID is not JSON serializable"; a key's type by its name).
"""

from __future__ import annotations

import sys
from gc import get_referents

from ric.errors import MarshalError, UnmarshalError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = ["BYTES_CONTENT_TYPE", "JSON_CONTENT_TYPE", "LARGE_BODY", "Codec"]

JSON_CONTENT_TYPE = "application/json"
# What awslambdaric declares for a handler that returns bytes.
BYTES_CONTENT_TYPE = "application/unknown"
# From this size on, orjson is loaded for encoding: its speed repays its import.
LARGE_BODY = 64 * 1024
_WHITESPACE = " \t\n\r"


class Codec:
    """Decodes events and encodes results; see the module docstring for the engines."""

    __slots__ = ("_c_encode", "_c_scan", "_options", "_orjson")

    def __init__(self, use_c_json: bool = True) -> None:
        self._orjson: ModuleType | None = None
        self._options = 0
        scan, encode = _c_json() if use_c_json else (None, None)
        self._c_scan: Callable[[str, int], tuple[Any, int]] | None = scan
        self._c_encode: Callable[[Any, int], Any] | None = encode

    @property
    def loaded_orjson(self) -> bool:
        return self._orjson is not None

    def load_orjson(self) -> ModuleType:
        """Import orjson now (at init, when init time is not on a caller's path)."""
        if self._orjson is None:
            import orjson

            self._orjson = orjson
            # No OPT_NON_STR_KEYS: a key that is not a str is refused (a UUID,
            # an Enum or a date would be written orjson's way), and the stdlib
            # decides. Should a datetime, a dataclass or a subclass get past
            # _plain(), orjson refuses it too.
            self._options = (
                orjson.OPT_PASSTHROUGH_DATETIME
                | orjson.OPT_PASSTHROUGH_DATACLASS
                | orjson.OPT_PASSTHROUGH_SUBCLASS
            )
        return self._orjson

    def decode(self, body: bytes, content_type: str) -> Any:
        """The event: parsed JSON for a JSON content type, else the raw bytes."""
        if not _is_json(content_type):
            return body
        if len(body) >= LARGE_BODY:
            orjson = self.load_orjson()  # a large event tends to make a large result
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
            else:
                if _exact(value):
                    return value
        scan = self._c_scan
        if scan is not None:
            try:
                return _c_decode(scan, body)
            except Exception:  # the stdlib decides, and words the error
                pass
        return _stdlib_decode(body)

    def encode(self, result: Any) -> tuple[bytes, str]:
        """The response body and its content type; bytes are sent as they are."""
        if type(result) is bytes:
            return result, BYTES_CONTENT_TYPE
        encode = self._c_encode
        if encode is not None and self._orjson is None:
            try:
                body = "".join(encode(result, 0)).encode()
            except Exception:  # refused by the C encoder: a Decimal, or the stdlib decides
                pass
            else:
                if len(body) >= LARGE_BODY:
                    self.load_orjson()
                return body, JSON_CONTENT_TYPE
        if _plain(result):
            orjson = self.load_orjson()
            try:
                return self._orjson_encode(orjson, result), JSON_CONTENT_TYPE
            except TypeError:  # integers beyond 64 bits, lone surrogates, depth
                pass
        return _stdlib_encode(result), JSON_CONTENT_TYPE

    def _orjson_encode(self, orjson: ModuleType, result: Any) -> bytes:
        try:
            body: bytes = orjson.dumps(result, default=_orjson_default, option=self._options)
        except TypeError:
            # A key orjson refused may be one it writes as the stdlib does.
            if not _simple_keys(result):
                raise
            options = self._options | orjson.OPT_NON_STR_KEYS
            body = orjson.dumps(result, default=_orjson_default, option=options)
        return body


def _is_json(content_type: str) -> bool:
    # Parameters such as "; charset=utf-8" are allowed (RFC 9110 8.3.1).
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == JSON_CONTENT_TYPE


class _ScanContext:
    """The settings ``_json.make_scanner`` reads: those of ``json.loads`` defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}  # noqa: RUF012 - read once by the scanner

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")


def _refuse(value: object) -> Any:
    raise TypeError(type(value).__name__)


def _c_json() -> tuple[Any, Any]:
    try:
        import _json

        scan = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]
        encode = _json.make_encoder(
            None, _refuse, _json.encode_basestring, None, ":", ",", False, False, False
        )
    except (ImportError, AttributeError, TypeError):  # not CPython: the json package
        return None, None
    return scan, encode


def _c_decode(scan: Callable[[str, int], tuple[Any, int]], body: bytes) -> Any:
    text = body.decode("utf-8")
    value, end = scan(text, len(text) - len(text.lstrip(_WHITESPACE)))
    if end != len(text.rstrip(_WHITESPACE)):
        raise ValueError("extra data after the JSON value")
    return value


# Integers beyond 64 bits come out of orjson as floats at least this large.
_INEXACT = float(2**63)


def _exact(value: Any) -> bool:
    """Whether ``value`` holds no float that orjson may have made of a big integer."""
    pending = [value]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is dict:
            node = node.values()
        elif kind is not list:
            if kind is float and not -_INEXACT < node < _INEXACT:
                return False
            continue
        for item in node:
            kind = type(item)
            if kind is str or kind is int:
                continue
            if kind is dict or kind is list:
                pending.append(item)
            elif kind is float and not -_INEXACT < item < _INEXACT:
                return False
    return True


def _stdlib_decode(body: bytes) -> Any:
    import json

    try:
        return json.loads(body.decode("utf-8"), parse_constant=_ScanContext.parse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError included
        raise UnmarshalError(f"Unable to unmarshal input: {exc}") from None


# What orjson and the stdlib encode alike: exact types only (a subclass, an
# IntEnum say, is encoded by orjson its own way).
_LEAVES = frozenset({str, int, float, bool, type(None)})
_PLAIN = _LEAVES | {dict, list, tuple}
# orjson refuses deeper values; a cycle ends there too (the stdlib words it).
_MAX_DEPTH = 256


def _plain(value: Any) -> bool:
    """Whether ``value`` holds only types orjson encodes as the stdlib does.

    The value is walked a level at a time with ``gc.get_referents`` (a dict's
    keys and values, a list's or tuple's items), which keeps the walk in C:
    about 25 ns per object, a third of what orjson then takes to encode it.
    A dict key of another type than ``str`` passes (orjson refuses those, and
    the stdlib decides), as does a ``Decimal``.
    """
    if type(value) is dict and _LEAVES.issuperset(map(type, value.values())):
        return True  # the usual small result, at a fifth of the walk's cost
    plain = _PLAIN
    decimal = sys.modules.get("decimal")  # none can exist if it was never imported
    if decimal is not None:
        plain = plain | {decimal.Decimal}
    level = [value]
    for _ in range(_MAX_DEPTH):
        if not plain.issuperset(map(type, level)):
            return False
        level = get_referents(*level)
        if not level:
            return True
    return False


# Keys orjson's OPT_NON_STR_KEYS writes as the stdlib does (a float's may differ:
# 2.5e-05 is "0.000025" there).
_SIMPLE_KEYS = frozenset({str, int, bool, type(None)})


def _simple_keys(value: Any) -> bool:
    """Whether every key of every dict in ``value`` (a plain one) is of those types."""
    pending = [value]
    while pending:
        node = pending.pop()
        if type(node) is dict:
            if not _SIMPLE_KEYS.issuperset(map(type, node)):
                return False
            pending.extend(node.values())
        elif type(node) is list or type(node) is tuple:
            pending.extend(node)
    return True


def _is_decimal(value: object) -> bool:
    # A Decimal exists only if its module was imported: no import here.
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


def _orjson_default(value: object) -> Any:
    # Only a Decimal gets here: _plain() lets nothing else through.
    if _is_decimal(value):
        if not value.is_finite():  # type: ignore[attr-defined]
            return None  # as orjson writes a NaN float: JSON has no NaN
        import orjson

        return orjson.Fragment(str(value))  # a JSON number, digits kept exactly
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _stdlib_encode(result: Any) -> bytes:
    import json

    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_stdlib_default)
    try:
        return encoder.encode(result).encode("utf-8")
    except TypeError as exc:
        raise MarshalError(f"Unable to marshal response: {_worded(encoder, result, exc)}") from None
    except (ValueError, RecursionError) as exc:  # UnicodeEncodeError included
        raise MarshalError(f"Unable to marshal response: {exc}") from None


def _worded(encoder: Any, result: Any, error: TypeError) -> TypeError:
    """The error as awslambdaric words it: a refused key's type by its name.

    The C encoder names a C type by its full name ("decimal.Decimal",
    "datetime.date"); the stdlib's Python encoder, walking the value in the
    same order, by ``__name__`` as awslambdaric's simplejson does.
    """
    if not str(error).startswith("keys must be"):
        return error
    try:
        "".join(encoder.iterencode(result))  # not one-shot: the Python encoder
    except TypeError as exc:
        return exc
    except (ValueError, RecursionError):
        pass
    return error


def _stdlib_default(value: object) -> Any:
    if _is_decimal(value):
        return float(value)  # type: ignore[arg-type]
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
