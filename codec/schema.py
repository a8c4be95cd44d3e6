"""The project's ASN.1 definitions, compiled once, and UPER decode/encode that raise :class:`CodecError`.

Two standards live in ``codec/``: ``csae.asn`` (the Chinese Day-1 set, YD/T 3709 / T/CSAE 53)
and ``j2735.asn`` (SAE J2735). Values are asn1tools' Python form: SEQUENCE -> dict, CHOICE ->
``(name, value)``, ENUMERATED -> str, BIT STRING -> ``(bytes, nbits)``, OCTET STRING -> bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, Final

import asn1tools

from codec.errors import CodecError

ASN_DIR: Final = Path(__file__).resolve().parent
#: Standard name -> ASN.1 file.
FILES: Final = {"csae": ASN_DIR / "csae.asn", "j2735": ASN_DIR / "j2735.asn"}
STANDARDS: Final = tuple(FILES)

# Exceptions asn1tools lets through on garbage input (it has no single base class for them).
_GARBAGE = (
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    OverflowError,
    NotImplementedError,
    RecursionError,
)


def check_std(std: str) -> str:
    """Return ``std`` if it is a known standard, else raise :class:`CodecError` saying which are."""
    if std not in FILES:
        raise CodecError(
            f"unknown standard {std!r}; choose one of {', '.join(STANDARDS)}", reason="wrong_type", field="std"
        )
    return std


@cache
def spec(std: str, codec: str = "uper") -> Any:
    """The compiled specification of ``std`` for asn1tools codec ``codec`` ("uper" or "jer")."""
    return asn1tools.compile_files([str(FILES[check_std(std)])], codec)


def decode(std: str, type_name: str, data: bytes) -> Any:
    """UPER bytes -> asn1tools value of ``type_name``, checked against every constraint.

    Trailing bytes after the value are ignored (encoders pad to whole octets and some add a
    zero octet). Unknown extension additions of a SEQUENCE are skipped, as X.691 intends; an
    unknown CHOICE alternative or ENUMERATED value cannot be read and is an error.

    Raises
    ------
    CodecError
        ``truncated`` when the bytes end early, ``out_of_range`` for a value outside its
        constraint, ``unknown_extension``, or ``malformed``; the message names the field path
        and the bit offset when asn1tools knows them.
    """
    with _asn1_errors(type_name, "undecodable bits"):
        value = spec(std).decode(type_name, data, check_constraints=True)
    unknown = find_unknown_extension(value, type_name)
    if unknown:
        raise CodecError(
            f"{unknown}: unknown extension (a value added by a later version of the standard)",
            reason="unknown_extension",
            field=unknown,
        )
    return value


def encode(std: str, type_name: str, value: Any) -> bytes:
    """asn1tools value of ``type_name`` -> UPER bytes, checked against every constraint.

    Raises
    ------
    CodecError
        ``out_of_range`` for a value outside its constraint, ``malformed`` for a missing or
        mistyped member; the message names the field path.
    """
    with _asn1_errors(type_name, "cannot encode"):
        return bytes(spec(std).encode(type_name, value, check_constraints=True, check_types=True))


def find_unknown_extension(value: Any, path: str) -> str:
    """Dotted path of the first unknown CHOICE alternative or ENUMERATED value in ``value``, or ``""``.

    asn1tools decodes both to ``None`` (a CHOICE to ``(None, None)``); no type in the
    project's definitions decodes to ``None`` otherwise.
    """
    if not _has_none(value):  # the common case, without building paths
        return ""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, v = stack.pop()
        if v is None:
            return where
        if isinstance(v, dict):
            stack.extend((f"{where}.{k}", x) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((where, x) for x in v)
        elif isinstance(v, tuple) and len(v) == 2 and not isinstance(v[0], bytes):
            if v[0] is None:
                return where
            stack.append((f"{where}.{v[0]}", v[1]))
    return ""


def _has_none(value: Any) -> bool:
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()
        t = type(v)
        if t is dict:
            push(v.values())
        elif t is list:
            push(v)
        elif t is tuple:
            if v[0] is None:
                return True
            if type(v[0]) is str:
                stack.append(v[1])
        elif v is None:
            return True
    return False


@contextmanager
def _asn1_errors(type_name: str, garbage: str) -> Iterator[None]:
    """Turn asn1tools' exceptions (and the builtin ones it lets through on garbage) into :class:`CodecError`."""
    try:
        yield
    except asn1tools.codecs.OutOfDataError as exc:
        raise _located(exc, type_name, "truncated") from None
    except asn1tools.codecs.ConstraintsError as exc:
        raise _located(exc, type_name, "out_of_range") from None
    except (asn1tools.codecs.DecodeError, asn1tools.codecs.EncodeError) as exc:
        raise _located(exc, type_name, "malformed") from None
    except asn1tools.Error as exc:
        raise CodecError(f"{type_name}: {exc}", reason="malformed", field=type_name) from None
    except _GARBAGE as exc:
        raise CodecError(f"{type_name}: {garbage} ({exc})", reason="malformed", field=type_name) from None


def _located(exc: Any, type_name: str, reason: str) -> CodecError:
    where = exc.location_str or type_name
    if not where.startswith(type_name):
        where = f"{type_name}.{where}"
    offset = getattr(exc, "offset", None)
    at = f" (bit offset {offset})" if offset is not None else ""
    return CodecError(f"{where}: {exc.message}{at}", reason=reason, field=where, offset=offset)


def to_jer(std: str, type_name: str, value: Any) -> Any:
    """asn1tools value -> its X.697 JSON (JER) form as Python objects (OCTET/BIT STRING as hex)."""
    with _asn1_errors(type_name, "cannot write JSON"):
        return json.loads(spec(std, "jer").encode(type_name, value))


def from_jer(std: str, type_name: str, obj: Any) -> Any:
    """JER form (Python objects) -> asn1tools value; members are checked when the value is encoded.

    Raises
    ------
    CodecError
        When the JSON does not fit the type (a non-hex string, an unknown alternative or member).
    """
    try:
        value = spec(std, "jer").decode(type_name, json.dumps(obj).encode())
    except asn1tools.Error as exc:
        raise CodecError(f"{type_name}: {exc}", reason="malformed", field=type_name) from None
    except (*_GARBAGE, AttributeError) as exc:
        raise CodecError(
            f"{type_name}: JSON does not fit the type ({exc})", reason="malformed", field=type_name
        ) from None
    unknown = find_unknown_extension(value, type_name)
    if unknown:
        raise CodecError(f"{unknown}: no such alternative or enumerated value", reason="malformed", field=unknown)
    return value
