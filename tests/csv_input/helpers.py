"""Helpers shared by the CSV input tests."""

from __future__ import annotations

import codecs


def utf16_le(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def utf16_be(text: str) -> bytes:
    return codecs.BOM_UTF16_BE + text.encode("utf-16-be")


def csv_bytes(*lines: str) -> bytes:
    """Return the lines as UTF-8, each ended by LF."""
    return "".join(f"{line}\n" for line in lines).encode()
