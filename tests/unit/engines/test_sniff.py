"""Sniffing text files: compression, binary data, encoding, dialect and ragged lines."""

from __future__ import annotations

import csv
import gzip
import io
import os
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clusterlab.core.errors import InvalidInputError
from clusterlab.engines.local.sniff import (
    Dialect,
    detect_dialect,
    detect_encoding,
    find_ragged_line,
    looks_binary,
    read_head,
)

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"


def sniff_file(path: Path) -> tuple[str, Dialect]:
    """The pipeline the CSV reader runs: head, encoding, decoded text, dialect."""
    head = read_head(path)
    assert not looks_binary(head)
    encoding = detect_encoding(head)
    text = head.decode(encoding, errors="replace")
    return encoding, detect_dialect(text)


# --- read_head -----------------------------------------------------------------------


def test_read_head_plain_file_and_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" * 1000)
    assert read_head(path) == b"a,b\n" * 1000
    assert read_head(path, size=10) == b"a,b\na,b\na,"


@pytest.mark.parametrize("name", ["data.csv.gz", "data.csv", "data"])
def test_read_head_decompresses_gzip_by_magic_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress("prénom,âge\nZoé,7\n".encode()))
    assert read_head(path) == "prénom,âge\nZoé,7\n".encode()


def test_read_head_of_a_gzip_bomb_stops_at_size(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"0" * (64 << 20)))
    assert path.stat().st_size < 200_000
    assert len(read_head(path, size=1 << 16)) == 1 << 16


def test_read_head_of_a_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    data = gzip.compress(os.urandom(50_000))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match=r"cut\.csv\.gz.*damaged or truncated"):
        read_head(path)


def test_a_plain_file_named_gz_is_read_as_is(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(b"a,b\n1,2\n")
    assert read_head(path) == b"a,b\n1,2\n"


# --- detect_encoding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("prénom;ville\nZoé;Orléans\n".encode(), "utf-8"),
        (b"plain ascii,1\n", "utf-8"),
        (b"", "utf-8"),
        (b"\xef\xbb\xbfname,city\n", "utf-8"),
        ("name,city\nZoé,Paris\n".encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + "name,city\nZoé,Paris\n".encode("utf-16-be"), "utf-16"),
        ("name,city\nZoé,Paris\n".encode("utf-16-le"), "utf-16-le"),
        ("name,city\nZoé,Paris\n".encode("utf-16-be"), "utf-16-be"),
        ("name,city\nZoé,Paris\n".encode("utf-32"), "utf-32"),
        ("prénom;ville\nZoé;Orléans\nJürgen;München\n".encode("latin-1"), "latin-1"),
        (b"name,city\ncaf\xe9", "latin-1"),  # short Latin-1 file ending in an accent
        ("Ça coûte 5 €, très cher; à bientôt\n".encode("cp1252"), "latin-1"),
        ("Привет, мир; как дела у тебя сегодня?\n".encode("cp1251") * 5, "cp1251"),
    ],
)
def test_detect_encoding(data: bytes, expected: str) -> None:
    assert detect_encoding(data) == expected


def test_detected_encoding_decodes_the_latin1_text_right() -> None:
    text = "prénom;ville\nZoé;Orléans\nJürgen;München\n"
    data = text.encode("latin-1")
    assert data.decode(detect_encoding(data)) == text


def test_utf8_head_cut_inside_a_character_is_still_utf8() -> None:
    data = ("x" * 5000 + "é").encode()
    assert detect_encoding(data[:-1]) == "utf-8"
    data = "Zoé,Orléans,北京\n".encode()
    assert detect_encoding(data[:-2]) == "utf-8"  # cut inside 京


@given(st.text(min_size=1, max_size=200), st.integers(min_value=0, max_value=1000))
def test_any_utf8_text_cut_anywhere_is_utf8(text: str, cut: int) -> None:
    assume("\x00" not in text)
    # A leading non-ASCII character is the evidence that makes a cut tail believable.
    data = ("é" + text).encode()
    assert detect_encoding(data[: 2 + cut % (len(data) - 1)]) == "utf-8"


def test_a_stray_byte_in_a_long_utf8_file_keeps_utf8() -> None:
    data = "Zoé,Orléans,Genève\n".encode() * 50 + b"bad \xff byte\n"
    assert detect_encoding(data) == "utf-8"


# --- looks_binary --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(os.urandom(4096), id="urandom"),
        pytest.param(random.Random(7).randbytes(300), id="random-300-bytes"),
        pytest.param(PNG_HEADER, id="png"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png-magic-only"),
        pytest.param(b"PK\x03\x04\x14\x00\x06\x00", id="zip-xlsx"),
        pytest.param(b"PAR1\x15\x04\x15", id="parquet"),
        pytest.param(b"a,b\n1,\x002\n", id="nul-in-text"),
        pytest.param(b"\x01\x02\x03\x04abcdefgh", id="control-chars"),
    ],
)
def test_binary_data_is_binary(data: bytes) -> None:
    assert looks_binary(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"a,b\r\n1,2\r\n", id="crlf"),
        pytest.param(b"a\tb\n1\t2\n\x0c", id="tab-and-form-feed"),
        pytest.param("prénom,名前\n".encode(), id="utf8"),
        pytest.param("prénom;ville\n".encode("latin-1"), id="latin1"),
        pytest.param("name,city\nZoé,Paris\n".encode("utf-16"), id="utf16-bom"),
        pytest.param("name,city\nZoé,Paris\n".encode("utf-16-le"), id="utf16-le-no-bom"),
        pytest.param("name,city\nZoé,Paris\n".encode("utf-32"), id="utf32"),
    ],
)
def test_text_is_not_binary(data: bytes) -> None:
    assert not looks_binary(data)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300))
def test_printable_text_is_never_binary(text: str) -> None:
    assert not looks_binary(text.encode())


def test_binary_garbage_named_csv_is_caught_after_gzip(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(gzip.compress(PNG_HEADER + os.urandom(1000)))
    assert looks_binary(read_head(path))


# --- detect_dialect ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,name,score\n1,ann,2.5\n2,bob,3\n", Dialect(",", '"', True)),
        ("id;name;score\n1;ann;2,5\n2;bob;3,25\n", Dialect(";", '"', True)),
        ("id\tname\tnote\n1\tann\tlikes a, b\n2\tbob\tc; d\n", Dialect("\t", '"', True)),
        ("id|name\n1|ann\n2|bob\n", Dialect("|", '"', True)),
        ("id,name\r\n1,ann\r\n2,bob\r\n", Dialect(",", '"', True)),
        ("id,name\r1,ann\r2,bob\r", Dialect(",", '"', True)),
        ('id,note\n1,"a, b\nand c"\n2,"say ""hi"""\n', Dialect(",", '"', True)),
        ("1,2,3\n4,5,6\n", Dialect(",", '"', False)),
        ("1,5;2,5;3,5\n4,5;5,5;6,5\n", Dialect(";", '"', False)),  # decimal commas
        ("'a b','c'\n'1','2'\n", Dialect(",", "'", True)),
        ("alice,alice@example.com\n", Dialect(",", '"', False)),
        ("alice,paris\nbob,paris\n", Dialect(",", '"', False)),  # header repeats below
        ("name\nann\nbob\n", Dialect(",", '"', True)),
        ("", Dialect(",", '"', True)),
    ],
)
def test_detect_dialect(text: str, expected: Dialect) -> None:
    assert detect_dialect(text) == expected


def test_a_single_text_row_is_a_header_of_an_empty_table() -> None:
    assert detect_dialect("name,email,country\n") == Dialect(",", '"', True)


def test_unicode_column_names_are_a_header() -> None:
    text = "prénom;名前;Ωmega;emoji😀\nZoé;太郎;1,5;x\nLéa;花子;2,5;y\n"
    assert detect_dialect(text) == Dialect(";", '"', True)


def test_header_needs_non_numeric_names_but_not_distinct_ones() -> None:
    assert not detect_dialect("name,2024\nann,1\n").has_header
    assert not detect_dialect(",\n1,2\n").has_header
    # The importer renames duplicates with a warning, so they still form a header.
    assert detect_dialect("a,b,a\n1,2,3\n").has_header


def test_empty_header_cell_of_an_index_column_is_allowed() -> None:
    assert detect_dialect(",a,b\n0,1.5,2\n1,3.5,4\n") == Dialect(",", '"', True)


def test_bom_does_not_spoil_the_header() -> None:
    assert detect_dialect("\ufeffid,name\n1,ann\n") == Dialect(",", '"', True)


def test_hint_delimiter_wins() -> None:
    assert detect_dialect("a,b\n1,2\n", hint_delimiter=";").delimiter == ";"
    assert detect_dialect("a,b\tc\n1,2\t3\n", hint_delimiter="\t").delimiter == "\t"


def test_hint_delimiter_must_be_one_character() -> None:
    with pytest.raises(InvalidInputError, match="one character"):
        detect_dialect("a,b\n", hint_delimiter="\\t")


def test_a_sample_cut_mid_line_is_still_detected() -> None:
    text = "id;label;price\n" + "".join(f"{i};item {i};{i},5\n" for i in range(50))
    for cut in range(len(text) - 40, len(text)):
        assert detect_dialect(text[:cut]) == Dialect(";", '"', True), cut


def test_a_sample_cut_inside_a_quoted_field_is_still_detected() -> None:
    text = 'id,note\n1,plain\n2,"long, quoted\nnote, with, commas'
    assert detect_dialect(text) == Dialect(",", '"', True)


FIELD_CHARS = "ab Zé1.\"'\n"


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[str, list[list[str]], str]:
    """A CSV written by csv.writer: a header and rows of arbitrary fields."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = draw(st.integers(min_value=2, max_value=6))
    header = draw(
        st.lists(
            st.text("abcdefghij_", min_size=1, max_size=8),
            min_size=columns,
            max_size=columns,
            unique=True,
        )
    )
    field = st.text(FIELD_CHARS + delimiter, max_size=12)
    rows = draw(st.lists(st.lists(field, min_size=columns, max_size=columns), max_size=20))
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerows([header, *rows])
    return out.getvalue(), [header, *rows], delimiter


@given(csv_tables())
def test_detect_dialect_recovers_the_delimiter_of_any_written_csv(
    table: tuple[str, list[list[str]], str],
) -> None:
    text, _, delimiter = table
    assert detect_dialect(text).delimiter == delimiter


@given(st.data())
def test_detect_dialect_recovers_the_delimiter_when_every_field_is_quoted(
    data: st.DataObject,
) -> None:
    # Fields may hold every candidate delimiter: only quoting tells them apart.
    delimiter = data.draw(st.sampled_from([",", ";", "\t", "|"]))
    columns = data.draw(st.integers(min_value=2, max_value=6))
    name = st.text("abcdefghij_", min_size=1, max_size=8)
    header = data.draw(st.lists(name, min_size=columns, max_size=columns, unique=True))
    field = st.text(FIELD_CHARS + ",;\t|", max_size=12)
    row = st.lists(field, min_size=columns, max_size=columns)
    rows = data.draw(st.lists(row, max_size=20))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerows([header, *rows])
    assert detect_dialect(out.getvalue()).delimiter == delimiter


def test_single_quotes_inside_double_quoted_csv_keep_the_double_quote() -> None:
    # Found by hypothesis: runs of ',' and "'" looked like single-quoted fields.
    text = "_,a,__,___,____,_____\n,',',',',\"\n1\n1\"\n"
    assert detect_dialect(text) == Dialect(",", '"', True)


@given(csv_tables(), st.integers(min_value=0, max_value=10_000))
def test_detect_dialect_survives_any_cut_after_two_records(
    table: tuple[str, list[list[str]], str], cut: int
) -> None:
    text, records, delimiter = table
    assume(len(records) >= 3)
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(records[:2])
    start = len(out.getvalue())
    assert detect_dialect(text[: start + cut % (len(text) - start + 1)]).delimiter == delimiter


@given(
    st.lists(
        st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    st.data(),
)
def test_text_names_over_numbers_are_a_header(names: list[str], data: st.DataObject) -> None:
    rows = data.draw(
        st.lists(
            st.lists(st.integers(), min_size=len(names), max_size=len(names)),
            min_size=1,
            max_size=10,
        )
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([names, *rows])
    assert detect_dialect(out.getvalue()).has_header
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    assert not detect_dialect(out.getvalue()).has_header


# --- whole files ---------------------------------------------------------------------


def test_latin1_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "ventes.csv"
    path.write_bytes("région;montant\nÎle-de-France;12,5\nGenève;3,75\n".encode("latin-1"))
    assert sniff_file(path) == ("latin-1", Dialect(";", '"', True))


def test_utf8_bom_crlf_file(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbfid,name\r\n1,Zo\xc3\xa9\r\n2,L\xc3\xa9a\r\n")
    encoding, dialect = sniff_file(path)
    assert (encoding, dialect) == ("utf-8", Dialect(",", '"', True))


def test_gzipped_tsv(tmp_path: Path) -> None:
    path = tmp_path / "logs.tsv.gz"
    path.write_bytes(gzip.compress(b"ts\tip\n2024-01-31 10:00:00\t10.0.0.1\n"))
    assert sniff_file(path) == ("utf-8", Dialect("\t", '"', True))


def test_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("id\tname\n1\tZoé\n".encode("utf-16"))
    assert sniff_file(path) == ("utf-16", Dialect("\t", '"', True))


# --- find_ragged_line ----------------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8", compress: bool = False) -> Path:
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_no_ragged_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ok.csv", 'a,b\n1,"x,y"\n2,"multi\nline"\n')
    assert find_ragged_line(path, "utf-8", Dialect(",")) is None


def test_ragged_line_after_a_quoted_newline_is_the_physical_line(tmp_path: Path) -> None:
    text = 'id,note\n1,"first\nsecond\nthird"\n2,fine\n3,too,many\n4,ok\n'
    path = write(tmp_path / "ragged.csv", text)
    assert find_ragged_line(path, "utf-8", Dialect(",")) == (6, 3, 2)


def test_ragged_record_spanning_lines_reports_its_first_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", 'a,b\n1,2\n3,"x\ny",extra\n')
    assert find_ragged_line(path, "utf-8", Dialect(",")) == (3, 3, 2)


def test_too_few_fields_with_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "short.csv", "a;b;c\r\n1;2;3\r\n\r\n4;5\r\n")
    assert find_ragged_line(path, "utf-8", Dialect(";")) == (4, 2, 3)


def test_ragged_line_in_gzip_latin1_and_utf16(tmp_path: Path) -> None:
    text = "prénom\tville\nZoé\tOrléans\nLéa\tGenève\textra\n"
    gz = write(tmp_path / "a.tsv.gz", text, compress=True)
    latin = write(tmp_path / "b.tsv", text, encoding="latin-1")
    wide = write(tmp_path / "c.tsv", text, encoding="utf-16")
    for path, encoding in [(gz, "utf-8"), (latin, "latin-1"), (wide, "utf-16")]:
        assert find_ragged_line(path, encoding, Dialect("\t")) == (3, 3, 2), path.name


def test_unclosed_quote_swallowing_the_file_is_reported(tmp_path: Path) -> None:
    text = 'a,b\n1,2\n3,"oops\n' + "4,5\n" * 40_000
    path = write(tmp_path / "open.csv", text)
    with pytest.raises(InvalidInputError, match=r"open\.csv, line 3: .*quote"):
        find_ragged_line(path, "utf-8", Dialect(","))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(csv_tables(), st.data())
def test_ragged_line_number_matches_the_written_file(
    tmp_path: Path, table: tuple[str, list[list[str]], str], data: st.DataObject
) -> None:
    _, records, delimiter = table
    position = data.draw(st.integers(min_value=1, max_value=len(records)))
    ragged = [*records[:position], [*records[0], "extra"], *records[position:]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(ragged)
    text = out.getvalue()
    before = io.StringIO()
    csv.writer(before, delimiter=delimiter, lineterminator="\n").writerows(ragged[:position])
    expected_line = before.getvalue().count("\n") + 1
    path = write(tmp_path / "t.csv", text)
    assert find_ragged_line(path, "utf-8", Dialect(delimiter)) == (
        expected_line,
        len(records[0]) + 1,
        len(records[0]),
    )
