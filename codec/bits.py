"""BIT STRING values as asn1tools holds them: ``(bytes, nbits)``, bit 0 the first (most significant)."""

from __future__ import annotations

from collections.abc import Iterable


def is_set(value: tuple[bytes, int], bit: int) -> bool:
    """Whether named bit ``bit`` is set."""
    data, nbits = value
    return bit < nbits and bool(data[bit // 8] & (0x80 >> (bit % 8)))


def make(nbits: int, bits: Iterable[int]) -> tuple[bytes, int]:
    """A BIT STRING of ``nbits`` with the given bit numbers set."""
    out = bytearray((nbits + 7) // 8)
    for b in bits:
        out[b // 8] |= 0x80 >> (b % 8)
    return bytes(out), nbits


def set_bits(value: tuple[bytes, int]) -> list[int]:
    """The numbers of the bits that are set, ascending."""
    return [b for b in range(value[1]) if is_set(value, b)]
