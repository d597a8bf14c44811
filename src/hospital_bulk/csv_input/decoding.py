"""Decode the bytes of an uploaded CSV file into text, or reject content that is not text.

The attempts, in order:

1. A byte order mark decides the encoding: UTF-8 ("utf-8-sig"), UTF-32 or UTF-16.
2. Signatures of binary formats (Excel workbooks, ZIP, PDF, images) and NUL bytes are
   rejected with status 415.
3. Strict UTF-8 ("utf-8").
4. Windows-1252 ("cp1252"), which Excel writes for "CSV (Comma delimited)" on Western
   Windows, when every byte is defined in it and charset-normalizer finds the decoded
   text coherent.
5. The best match of charset-normalizer over all the encodings it supports, unless another
   encoding reads almost as well, in which case the file is rejected with status 415.

Steps 4 and 5 are guesses, so their result carries a warning that names the encoding.

`open_csv_text` reads a file object instead of bytes. A file that decodes cleanly by step 1
or 3, as nearly every export does, is checked in one pass and then read as a stream, so
its text is never held whole in memory. Any other file is read whole and decoded as above.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from charset_normalizer import from_bytes

from hospital_bulk.csv_input.errors import (
    STATUS_UNPROCESSABLE,
    STATUS_UNSUPPORTED_MEDIA_TYPE,
    CsvFileError,
)

__all__ = ["CsvText", "DecodedText", "decode_csv_bytes", "open_csv_text", "split_lines"]

SAVE_AS_CSV_FIX = (
    'Open the sheet in Excel or another spreadsheet program, save it as "CSV UTF-8 '
    '(Comma delimited)", and upload that file.'
)

# Each mark with the codec for the bytes after it and the encoding name reported.
# UTF-32 marks come first because the UTF-32 LE mark starts with the UTF-16 LE mark.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

# The minimum difference in charset-normalizer's chaos ratio (0 is clean text, its default
# cut-off is 0.2) between the best encoding and every other candidate. Below it the file
# is ambiguous. NOTE: 0.05 was chosen from a handful of Cyrillic, Greek, CJK and Polish
# samples, not tuned on a corpus.
_MIN_CHAOS_MARGIN = 0.05

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# One line with its line break, or the last line when the text does not end in a break.
# It never matches the empty string, so the lines join back into the text.
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

#: Bytes read at a time while a file is checked or hashed.
READ_SIZE = 1024 * 1024
# Bytes read for the first checks: the maximum length of a binary signature or a byte order mark.
_HEAD_SIZE = 8

_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive, such as an Excel workbook (.xlsx)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls) or Office document"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """The text of a file, the codec name it was decoded with, and a warning if guessed."""

    text: str
    encoding: str
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class CsvText:
    """The text of a file, read again from its start by each call of `lines()`.

    Attributes:
        encoding: The codec name the file was decoded with, as in `DecodedText`.
        warning: A message when the encoding was guessed, or None.
    """

    encoding: str
    warning: str | None
    _open_lines: Callable[[], Iterator[str]]

    def lines(self) -> Iterator[str]:
        """Yield the lines of the text from its start, each with its line break.

        Lines end at CR, LF or CRLF only, as io.StringIO(newline="") splits them, so that
        the csv module keeps line breaks inside quoted cells.
        """
        return self._open_lines()


def split_lines(text: str) -> Iterator[str]:
    """Yield the lines of `text` with their breaks, split as `CsvText.lines()` splits them."""
    # A StringIO would copy the text into 4 bytes per character before its first line.
    for line in _LINE_WITH_BREAK.finditer(text):
        yield line.group()


def open_csv_text(file: BinaryIO, *, filename: str) -> CsvText:
    """Decode the seekable binary `file` by the attempts listed in the module docstring.

    Raises:
        CsvFileError: As `decode_csv_bytes` raises it.
    """
    file.seek(0)
    head = file.read(_HEAD_SIZE)
    mark, codec, encoding = b"", "utf-8", "utf-8"
    for candidate, candidate_codec, candidate_encoding in _BYTE_ORDER_MARKS:
        if head.startswith(candidate):
            mark, codec, encoding = candidate, candidate_codec, candidate_encoding
            break
    if mark or not _binary_signature(head):
        file.seek(len(mark))
        if _decodes_cleanly(file, codec):
            return CsvText(encoding, None, lambda: _stream_lines(file, len(mark), codec))

    # Binary, not clean text in its encoding, or in a legacy encoding: the whole-file
    # checks give the error, or the guess that needs the whole file.
    # NOTE: so a file in a legacy encoding is held whole in memory while it is read.
    file.seek(0)
    decoded = decode_csv_bytes(file.read(), filename=filename)
    text = decoded.text
    return CsvText(decoded.encoding, decoded.warning, lambda: split_lines(text))


def _decodes_cleanly(file: BinaryIO, codec: str) -> bool:
    """Return whether the rest of `file` decodes strictly with `codec` to text with no NUL."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        while chunk := file.read(READ_SIZE):
            if "\x00" in decoder.decode(chunk):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _stream_lines(file: BinaryIO, start: int, codec: str) -> Iterator[str]:
    file.seek(start)
    # newline="" splits lines on CR, LF and CRLF and leaves the breaks in them.
    text = io.TextIOWrapper(file, encoding=codec, errors="strict", newline="")  # type: ignore[arg-type]
    try:
        first = True
        for line in text:
            if first:
                # A second mark is left when a tool adds one to text that already has one.
                line = line.removeprefix("\ufeff")
                first = False
                if not line:
                    continue
            yield line
    finally:
        # Detached, the wrapper leaves the file open for the next pass.
        text.detach()


def decode_csv_bytes(data: bytes, *, filename: str) -> DecodedText:
    """Decode `data` by the attempts listed in the module docstring.

    Raises:
        CsvFileError: With status 415 when the content is binary, contains NUL bytes or
            matches no known encoding, and 422 when it has a byte order mark but bytes
            that are invalid in that encoding.
    """
    for mark, codec, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            text = _decode_after_byte_order_mark(data, mark, codec, filename=filename)
            return DecodedText(text, encoding)

    _reject_binary(data, filename=filename)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass

    cp1252_text = _decode_as_cp1252(data)
    if cp1252_text is not None:
        return DecodedText(cp1252_text, "cp1252", _cp1252_warning())
    return _decode_with_best_guess(data, filename=filename)


def _decode_after_byte_order_mark(data: bytes, mark: bytes, codec: str, *, filename: str) -> str:
    try:
        text = data[len(mark) :].decode(codec)
    except UnicodeDecodeError as exc:
        label = codec.removesuffix("-le").removesuffix("-be").upper()
        line = len(_LINE_BREAK.split(exc.object[: exc.start].decode(codec)))
        raise CsvFileError(
            filename=filename,
            title="Invalid text encoding",
            detail=(
                f"The file starts with a {label} byte order mark, but line {line} has bytes "
                f"that are not valid {label} ({exc.object[exc.start : exc.end]!r} at byte "
                f"offset {len(mark) + exc.start})."
            ),
            fix=SAVE_AS_CSV_FIX,
            status_code=STATUS_UNPROCESSABLE,
        ) from exc

    # A second mark is left when a tool adds one to text that already has one.
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise _nul_error(filename, f"character {text.index(chr(0))}")
    return text


def _binary_signature(data: bytes) -> str | None:
    """Return the description of the binary format that `data` starts with, or None."""
    for signature, description in _BINARY_SIGNATURES:
        if data.startswith(signature):
            return description
    return None


def _reject_binary(data: bytes, *, filename: str) -> None:
    description = _binary_signature(data)
    if description is not None:
        raise CsvFileError(
            filename=filename,
            title="Not a CSV file",
            detail=f"The file is {description}, not CSV text.",
            fix=SAVE_AS_CSV_FIX,
            status_code=STATUS_UNSUPPORTED_MEDIA_TYPE,
        )

    nul_offset = data.find(b"\x00")
    if nul_offset >= 0:
        raise _nul_error(filename, f"byte {nul_offset}")


def _nul_error(filename: str, position: str) -> CsvFileError:
    return CsvFileError(
        filename=filename,
        title="Not a text file",
        detail=(
            f"The file contains a NUL character (the first at {position}), which CSV "
            "text never contains. It may be a binary file or UTF-16 text without a byte "
            "order mark."
        ),
        fix=SAVE_AS_CSV_FIX,
        status_code=STATUS_UNSUPPORTED_MEDIA_TYPE,
    )


def _decode_as_cp1252(data: bytes) -> str | None:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        # 0x81, 0x8D, 0x8F, 0x90 and 0x9D are undefined in Windows-1252.
        return None

    # Every defined byte decodes to some Latin character, so decoding alone proves
    # nothing: Cyrillic or Chinese text would decode too, as gibberish. charset-normalizer
    # returns a match only when the decoded text is coherent (few mixed-case or
    # mixed-script runs), which is what separates real Windows-1252 text.
    # NOTE: text in other Latin code pages also passes, so Polish Windows-1250 text
    # reads as Windows-1252 ("Łódź" becomes "£ódŸ"). The file warning names the
    # encoding so that a person can check the letters.
    if from_bytes(data, cp_isolation=["cp1252"]).best() is None and not _reads_as_latin(text):
        return None
    return text


#: Non-ASCII characters of Windows-1252 that Western text uses besides letters.
_WESTERN_PUNCTUATION = frozenset("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u20ac\u2022\u00a0")


def _reads_as_latin(text: str) -> bool:
    """Return whether decoded text looks like a Western language with a few accents.

    charset-normalizer rejects short or repetitive text ("CaféCafé") as incoherent. Text in
    a Western language is mostly ASCII letters, so text whose non-ASCII characters are all
    letters or typographic punctuation, and at most a third of its letters, passes too.
    Cyrillic or Greek bytes read as Windows-1252 are nearly all non-ASCII, so they do not.
    """
    letters = sum(1 for char in text if char.isalpha())
    accented = 0
    for char in text:
        if char.isascii():
            continue
        if not char.isalpha() and char not in _WESTERN_PUNCTUATION:
            return False
        accented += char.isalpha()
    return 3 * accented <= letters


def _decode_with_best_guess(data: bytes, *, filename: str) -> DecodedText:
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise CsvFileError(
            filename=filename,
            title="Unknown text encoding",
            detail=(
                "The file is not valid UTF-8, and its bytes do not read as coherent text "
                "in any other known encoding."
            ),
            fix=SAVE_AS_CSV_FIX,
            status_code=STATUS_UNSUPPORTED_MEDIA_TYPE,
        )

    # Text with little variety can read almost equally well in several code pages
    # (Russian Windows-1251 as Mac Cyrillic, for example), and then the best match is
    # a coin toss. Such files are rejected rather than decoded wrongly.
    rivals = [
        match.encoding
        for match in matches
        if match is not best and match.chaos - best.chaos < _MIN_CHAOS_MARGIN
    ]
    if rivals:
        raise CsvFileError(
            filename=filename,
            title="Ambiguous text encoding",
            detail=(
                f"The file is not valid UTF-8, and its bytes read about equally well as "
                f"{', '.join([best.encoding, *rivals])}."
            ),
            fix=SAVE_AS_CSV_FIX,
            status_code=STATUS_UNSUPPORTED_MEDIA_TYPE,
        )

    encoding = best.encoding
    warning = (
        f"The file is not UTF-8, so its encoding was guessed as {encoding}. If letters "
        'look wrong in the results, save the sheet as "CSV UTF-8 (Comma delimited)" '
        "and upload it again."
    )
    return DecodedText(str(best), encoding, warning)


def _cp1252_warning() -> str:
    return (
        "The file is not UTF-8, so it was read as Windows-1252 (cp1252), the encoding of "
        'Excel\'s "CSV (Comma delimited)" format. If accented letters look wrong in the '
        'results, save the sheet as "CSV UTF-8 (Comma delimited)" and upload it again.'
    )
