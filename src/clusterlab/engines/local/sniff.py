"""Read a delimited text file's format before DuckDB parses it.

DuckDB's own sniffer guesses well on clean files but gives poor errors on the rest, so
ClusterLab first looks at the head of the file itself: is it gzip, is it text at all,
which encoding, which delimiter and quote, is there a header. When DuckDB then fails,
`find_ragged_line` points the user at the physical line to fix.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, cast

from charset_normalizer import from_bytes

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.meanings import is_valid_for_meaning
from clusterlab.core.schema import Meaning

__all__ = [
    "Dialect",
    "detect_dialect",
    "detect_encoding",
    "find_ragged_line",
    "looks_binary",
    "read_head",
]

HEAD_SIZE = 1 << 20
"""Bytes of (decompressed) file read to detect its format."""

BINARY_CONTROL_SHARE = 0.03
"""Share of control characters above which a sample is binary, not text."""

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
"""Delimiters `detect_dialect` chooses from, preferred in this order on a tie."""

SNIFF_RECORDS = 200
"""Records of the sample used to choose the dialect."""

_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Formats users rename to .csv by mistake; several start with printable bytes.
_BINARY_MAGICS = (
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"%PDF-",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PAR1",
    b"7z\xbc\xaf\x27\x1c",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"SQLite format 3\x00",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    _GZIP_MAGIC,
)
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])
_ASCII_BYTES = bytes(range(128))
_ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_LATIN_CODECS = frozenset({"cp1252", "iso8859-1", "iso8859-15", "latin-1"})
_WIDE_CODEC_PREFIXES = ("utf-16", "utf_16", "utf-32", "utf_32")


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is written.

    Attributes
    ----------
    delimiter
        The field separator, one character.
    quote
        The character that quotes fields (doubled inside a quoted field).
    has_header
        Whether the first record names the columns.
    """

    delimiter: str
    quote: str = '"'
    has_header: bool = True


# --- bytes ---------------------------------------------------------------------------


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


@contextmanager
def _open_bytes(path: Path) -> Iterator[IO[bytes]]:
    # Magic bytes, not the name, decide: "data.csv" may be gzip and "data.csv.gz" not.
    if _is_gzip(path):
        with gzip.GzipFile(path, "rb") as gz:
            # typeshed's GzipFile lacks parts of the IO protocol it implements at runtime.
            yield cast(IO[bytes], gz)
    else:
        with open(path, "rb") as fh:
            yield fh


def read_head(path: Path, size: int = HEAD_SIZE) -> bytes:
    """Return the first ``size`` bytes of a file, decompressed if it is gzip.

    Gzip is recognised by its magic bytes whatever the file is called. At most
    ``size`` decompressed bytes are produced, so a small compressed bomb stays cheap.

    Parameters
    ----------
    path
        The file to read.
    size
        How many bytes to return at most.

    Returns
    -------
    bytes
        The head of the (decompressed) content; shorter when the file is.

    Raises
    ------
    InvalidInputError
        When the file is gzip but damaged within the head.

    Examples
    --------
    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_bytes(gzip.compress(b"a,b\\n1,2\\n"))
    >>> read_head(path)
    b'a,b\\n1,2\\n'
    """
    chunks: list[bytes] = []
    remaining = size
    with _open_bytes(path) as fh:
        try:
            while remaining > 0:
                chunk = fh.read(remaining)
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InvalidInputError(
                f"{path.name} is gzip-compressed but damaged or truncated ({exc}); "
                "compress it again or import the uncompressed file."
            ) from exc
    return b"".join(chunks)


# --- encoding ------------------------------------------------------------------------


def _bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    # Mostly-ASCII UTF-16 has a NUL in every other byte; which half holds them tells
    # the byte order. Text in other encodings has (almost) no NUL at all.
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul >= 0.6 and even_nul <= 0.02:
        return "utf-16-le"
    if even_nul >= 0.6 and odd_nul <= 0.02:
        return "utf-16-be"
    return None


def _reads_as_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.end < len(head) or exc.reason != "unexpected end of data":
            return _mostly_utf8(head)
        # The head may have been cut in the middle of a character. Trust that only when
        # the sample is long (so likely cut) or already shows multi-byte UTF-8: a short
        # Latin-1 file may well end with "café" and no newline.
        body = head[: exc.start]
        return len(head) >= 4096 or any(byte >= 0x80 for byte in body)
    return True


def _mostly_utf8(head: bytes) -> bool:
    # One stray byte in a long UTF-8 file should not turn all its accents into mojibake;
    # Latin-1 text read as UTF-8 fails on nearly every accented character instead.
    text = head.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    non_ascii = sum(1 for ch in text if ord(ch) >= 0x80)
    return bad * 20 < non_ascii - bad


def _western_single_byte(head: bytes) -> bool:
    # Western European text is mostly ASCII with a few accented letters, which Windows-
    # 1252 decodes to letters. Cyrillic, Greek or Central European code pages either
    # put most letters in the high half or decode to symbols under cp1252.
    sample = head[:65536]
    high = sample.translate(None, _ASCII_BYTES)
    if not high:
        return True
    letters = len(sample) - len(sample.translate(None, _ASCII_LETTERS))
    # On a few words ("café,été") accents can pass 30% of the letters; Cyrillic or Greek
    # text still has more high bytes than ASCII letters, short or long.
    limit = 0.3 if len(sample) >= 256 else 0.5
    if len(high) > limit * (letters + len(high)):
        return False
    decoded = high.decode("cp1252", errors="replace")
    readable = sum(1 for ch in decoded if ch.isalpha() or ch in "€‚„…†‡‰‹›‘’“”•–—™°£§«»¿¡·")
    return readable >= 0.8 * len(decoded)


def _guess_codec(head: bytes) -> str | None:
    for match in from_bytes(head):
        name = codecs.lookup(match.encoding).name
        # A BOM-less UTF-16/32 guess on bytes without NULs is a coin toss on short input.
        if not name.startswith(_WIDE_CODEC_PREFIXES) and name != "utf-8":
            return name
    return None


def detect_encoding(head: bytes) -> str:
    """Return the Python codec name to decode a text file whose head is ``head``.

    In order: a byte-order mark (UTF-8 → ``"utf-8"``, UTF-16 → ``"utf-16"``, UTF-32
    → ``"utf-32"``); BOM-less UTF-16 from its NUL pattern (``"utf-16-le"`` /
    ``"utf-16-be"``); valid UTF-8 (a head cut inside a character still counts) →
    ``"utf-8"``; mostly-ASCII text whose other bytes are Windows-1252 letters →
    ``"latin-1"``; else charset_normalizer's best guess, with every Latin-1-like code
    page reported as ``"latin-1"`` (the one DuckDB reads). Undecidable → ``"latin-1"``,
    which decodes any byte.

    Parameters
    ----------
    head
        The first bytes of the (decompressed) file.

    Returns
    -------
    str
        A codec name `codecs.lookup` accepts.

    Examples
    --------
    >>> detect_encoding("prénom;ville\\nZoé;Orléans\\n".encode("utf-8"))
    'utf-8'
    >>> detect_encoding("prénom;ville\\nZoé;Orléans\\n".encode("latin-1"))
    'latin-1'
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b\\n")
    'utf-8'
    """
    bom = _bom_encoding(head)
    if bom is not None:
        return bom
    wide = _utf16_without_bom(head)
    if wide is not None:
        return wide
    if _reads_as_utf8(head):
        return "utf-8"
    if _western_single_byte(head):
        return "latin-1"
    guess = _guess_codec(head)
    if guess is None or guess in _LATIN_CODECS:
        return "latin-1"
    return guess


def looks_binary(head: bytes) -> bool:
    """Return whether a file head is binary data rather than text.

    Known binary signatures (PNG, ZIP/XLSX, Parquet, PDF, ...), a NUL byte outside
    UTF-16/32 text, or more than `BINARY_CONTROL_SHARE` of control characters (tab,
    newlines and form feed excepted) mean binary. An empty head is text.

    Parameters
    ----------
    head
        The first bytes of the (decompressed) file.

    Returns
    -------
    bool
        ``True`` for binary data.

    Examples
    --------
    >>> looks_binary(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR")
    True
    >>> looks_binary("a,b\\n1,2\\n".encode("utf-16"))
    False
    >>> looks_binary(b"a,b\\r\\n1,2\\r\\n")
    False
    """
    if not head:
        return False
    if head.startswith(_BINARY_MAGICS):
        return True
    wide = _bom_encoding(head) or _utf16_without_bom(head)
    if wide is not None and wide.startswith(_WIDE_CODEC_PREFIXES):
        unit = 4 if wide.startswith("utf-32") else 2
        text = head[: len(head) - len(head) % unit].decode(wide, errors="replace")
        bad = sum(
            1
            for ch in text
            if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\x7f"
        )
        return bad > BINARY_CONTROL_SHARE * max(len(text), 1)
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > BINARY_CONTROL_SHARE * len(head)


# --- dialect -------------------------------------------------------------------------


def _records(text: str, delimiter: str, quote: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote)
    raw: list[list[str]] = []
    try:
        raw.extend(islice(reader, SNIFF_RECORDS + 1))
    except csv.Error:
        # An unbalanced quote can swallow the rest of the sample into one huge field.
        return [record for record in raw if record]
    exhausted = len(raw) <= SNIFF_RECORDS
    records = [record for record in raw[:SNIFF_RECORDS] if record]  # blank lines: no evidence
    # A sample cut inside a line (or inside a quoted field) ends with a partial record;
    # quotes come in pairs in complete CSV, so an odd count means we stopped inside one.
    complete = text.endswith(("\n", "\r")) and text.count(quote) % 2 == 0
    if exhausted and not complete and len(records) > 1:
        records.pop()
    return records


def _is_typed(value: str, meanings: tuple[Meaning, ...]) -> bool:
    return any(is_valid_for_meaning(value, meaning) for meaning in meanings)


_HEADER_EXCLUDED = (
    Meaning.INTEGER,
    Meaning.DECIMAL,
    Meaning.DATE,
    Meaning.IP_ADDRESS,
    Meaning.EMAIL,
    Meaning.URL,
)
_DATA_TYPED = (*_HEADER_EXCLUDED, Meaning.BOOLEAN)


def _typed_share(records: list[list[str]]) -> float:
    cells = [cell.strip() for record in records for cell in record]
    if not cells:
        return 0.0
    return sum(1 for cell in cells if not cell or _is_typed(cell, _DATA_TYPED)) / len(cells)


def _wrapped_share(records: list[list[str]]) -> float:
    cells = [cell for record in records for cell in record]
    wrapped = sum(1 for cell in cells if len(cell) > 1 and cell[0] == cell[-1] in "\"'")
    return wrapped / len(cells) if cells else 0.0


def _score(records: list[list[str]]) -> tuple[bool, bool, bool, float, float, int, float]:
    if not records:
        return (False, False, False, 0.0, 0.0, 0, 0.0)
    counts = Counter(len(record) for record in records)
    # On a tie the wider split wins: a delimiter that splits nothing is no delimiter.
    modal, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
    consistency = hits / len(records)
    return (
        modal > 1,
        len(records[0]) == modal,  # the header (or first row) has the table's width
        consistency >= 0.9,
        # Decimal commas: a ';' file split on ',' yields cells like "5;2" that read as
        # nothing, while the right split yields numbers.
        round(_typed_share(records), 2),
        # Cells still wrapped in quotes were parsed with the wrong quote character.
        -round(_wrapped_share(records), 2),
        modal,
        consistency,
    )


def _has_header(records: list[list[str]]) -> bool:
    if not records:
        return True
    first = [cell.strip() for cell in records[0]]
    names = [cell for cell in first if cell]
    # Duplicate names still make a header: the importer renames them with a warning.
    if not names:
        return False
    if any(_is_typed(name, _HEADER_EXCLUDED) for name in names):
        return False
    rest = records[1:]
    votes = 0
    for index, name in enumerate(first):
        column = [r[index].strip() for r in rest if index < len(r) and r[index].strip()]
        if not name or not column:
            continue
        if name in column:
            votes -= 1  # a header name seldom reappears as a value below it
        elif sum(_is_typed(value, _DATA_TYPED) for value in column) >= 0.5 * len(column):
            votes += 1  # text above numbers, dates, ...: the usual shape of a header
    # All-text tables give no evidence either way; like DuckDB, assume a header then.
    return votes >= 0


def detect_dialect(text: str, hint_delimiter: str | None = None) -> Dialect:
    """Detect the delimiter, quote character and header of delimited text.

    Each candidate delimiter (``,``, ``;``, tab, ``|``) and quote (``"``, and ``'``
    when the text has one) splits the first `SNIFF_RECORDS` records with the csv
    module, so quoted delimiters and quoted newlines are respected. The winner splits
    into more than one field, gives the first record the most common width, keeps at
    least 90% of the records at that width, then yields the most typed cells (numbers,
    dates, ...), the fewest cells still wrapped in quotes, and the most fields; earlier
    candidates win ties. A partial last record (a sample cut mid-line) is ignored.

    The first record is a header when it has a non-empty cell and none is a number,
    date, IP address, email or URL, unless header cells reappear in their columns
    below more often than they sit above typed values. Duplicate names still make a
    header (the importer renames them); a single such record is a header of a table
    with no rows; a table of text only is assumed to have a header.

    Parameters
    ----------
    text
        The decoded head of the file.
    hint_delimiter
        A delimiter the user (or the ``.tsv`` extension) gave; it is used as is.

    Returns
    -------
    Dialect
        The detected dialect; ``Dialect(",", '"', True)`` for empty text.

    Raises
    ------
    InvalidInputError
        When ``hint_delimiter`` is not a single character.

    Examples
    --------
    >>> detect_dialect("name;price\\nbread;1,5\\nmilk;0,99\\n")
    Dialect(delimiter=';', quote='"', has_header=True)
    >>> detect_dialect('1,"a, b"\\n2,"c\\nd"\\n')
    Dialect(delimiter=',', quote='"', has_header=False)
    """
    if hint_delimiter is not None and len(hint_delimiter) != 1:
        raise InvalidInputError(
            f"The delimiter must be one character, not {hint_delimiter!r}; write a tab as '\\t'."
        )
    text = text.removeprefix("\ufeff")
    delimiters = (hint_delimiter,) if hint_delimiter else CANDIDATE_DELIMITERS
    # Single quotes are tried only when present; on a tie the double quote wins.
    quotes = ('"', "'") if "'" in text else ('"',)
    best: tuple[Dialect, list[list[str]]] | None = None
    best_score: tuple[bool, bool, bool, float, float, int, float] | None = None
    for quote in quotes:
        for delimiter in delimiters:
            records = _records(text, delimiter, quote)
            score = _score(records)
            if best_score is None or score > best_score:
                best, best_score = (Dialect(delimiter, quote), records), score
    assert best is not None
    dialect, records = best
    return Dialect(dialect.delimiter, dialect.quote, _has_header(records))


# --- ragged lines --------------------------------------------------------------------


def find_ragged_line(path: Path, encoding: str, dialect: Dialect) -> tuple[int, int, int] | None:
    """Find the first record whose field count differs from the first record's.

    The file is streamed (gzip-aware) through the csv module with the dialect, so
    quoted delimiters and newlines do not count. Blank lines are skipped.

    Parameters
    ----------
    path
        The delimited text file, plain or gzip.
    encoding
        The codec to decode it with; undecodable bytes are replaced.
    dialect
        Its delimiter and quote.

    Returns
    -------
    tuple of int or None
        ``(line, found, expected)``: the physical 1-based line where the offending
        record starts, its number of fields and the first record's; ``None`` when all
        records agree.

    Raises
    ------
    InvalidInputError
        When a field is too large to be real (an unclosed quote, usually).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "data.csv"
    >>> _ = path.write_text('a,b\\n1,"x\\ny"\\n2,3,4\\n')
    >>> find_ragged_line(path, "utf-8", Dialect(","))
    (4, 3, 2)
    """
    with _open_bytes(path) as raw:
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(stream, delimiter=dialect.delimiter, quotechar=dialect.quote)
        expected: int | None = None
        last_line = 0
        try:
            for record in reader:
                start_line, last_line = last_line + 1, reader.line_num
                if not record:
                    continue
                if expected is None:
                    expected = len(record)
                elif len(record) != expected:
                    return start_line, len(record), expected
        except csv.Error as exc:
            raise InvalidInputError(
                f"{path.name}, line {last_line + 1}: {exc}. A quote is probably left "
                "open; close it or set a different quote character."
            ) from exc
    return None
