"""Where a new credential goes in a status list: a keyed shuffle of the list's positions.

A list hands out positions 0, 1, 2, ... in order, so allocation costs the same at any occupancy
and no index is ever used twice. The index a credential carries is the position put through a
keyed permutation (a Feistel network with cycle walking), so that indexes look random: they say
nothing about when a copy was made or which copies belong to one citizen. Framework-free.
"""

from __future__ import annotations

import hashlib

ROUNDS = 8  # Luby-Rackoff needs four for a strong pseudo-random permutation; eight leaves a margin
KEY_BYTES = 32


def _round(key: bytes, number: int, half: int, bits: int) -> int:
    digest = hashlib.blake2b(number.to_bytes(1, "big") + half.to_bytes(8, "big"), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << bits) - 1)


def _feistel(key: bytes, value: int, bits: int) -> int:
    left, right = value >> bits, value & ((1 << bits) - 1)
    for number in range(ROUNDS):
        left, right = right, left ^ _round(key, number, right, bits)
    return (left << bits) | right


def shuffled_index(key: bytes, position: int, size: int) -> int:
    """The index for ``position`` in a list of ``size``: a permutation of ``range(size)`` under ``key``."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"A shuffle key has {KEY_BYTES} bytes.")
    if not 0 <= position < size:
        raise ValueError("The position is outside the list.")
    bits = max(1, ((size - 1).bit_length() + 1) // 2)  # two halves that together cover the list
    value = position
    while True:  # cycle walking: stays inside range(size), and stays a permutation
        value = _feistel(key, value, bits)
        if value < size:
            return value
