"""Reading import files: CSV (plain or gzip), XLSX, their encodings, and the line number of every record."""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO

from incidents.errors import InputError, NotFoundError
from incidents.limits import limit, override


@dataclass(slots=True)
class Table:
    """An opened import file: its header, and an iterator of (line number, values) for every record."""

    path: Path
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    size: int  # bytes on disk, for progress
    position: Callable[[], int]  # bytes read so far
    skipped_hxl_row: bool = False


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:  # (stream, raw file)
    """(stream to read, raw file whose tell() measures progress)."""
    raw: IO[bytes] = path.open("rb")
    if _is_gzip(path):
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]  # GzipFile reads bytes
    return raw, raw


# What reading a damaged file raises: a truncated or corrupt gzip stream, an unreadable disk block.
READ_ERRORS = (OSError, EOFError, zlib.error)


def damaged(path: Path, exc: BaseException) -> InputError:
    kind = "gzip archive" if _is_gzip(path) else "file"
    return InputError(f"{path.name}: the {kind} is damaged or cut short and cannot be read ({exc})")


def _sniff_encoding(path: Path, preferred: list[str]) -> str:
    """The first of `preferred` that decodes the whole file; UTF-8 with a BOM is recognised."""
    stream, raw = _open_binary(path)
    try:
        with raw:
            head = stream.read(4)
    except READ_ERRORS as exc:
        raise damaged(path, exc) from None
    if head.startswith(codecs.BOM_UTF8):
        preferred = ["utf-8-sig"]  # a byte-order mark says UTF-8; the rest of the file must bear it out
    for encoding in preferred:
        stream, raw = _open_binary(path)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with raw:
                while chunk := stream.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
        except READ_ERRORS as exc:
            raise damaged(path, exc) from None
    raise encoding_error(path, "utf-8" if preferred == ["utf-8-sig"] else preferred[0])


def encoding_error(path: Path, encoding: str, format_name: str | None = None) -> InputError:
    """The error for a file that is not in `encoding`, naming the line and the first byte that is not."""
    line, byte = undecodable_position(path, encoding)
    files = f", the encoding {format_name} files use" if format_name else ""
    return InputError(
        f"{path.name}:{line}: byte {byte!r} is not {encoding}{files}. "
        f"Save the file as {encoding.upper()} and import it again."
    )


def open_csv(path: Path, encodings: list[str]) -> Table:
    """Open a CSV (or .csv.gz); the encoding is the first of `encodings` that decodes the whole file."""
    if not path.exists():
        raise NotFoundError(f"No file at {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty")
    encoding = _sniff_encoding(path, encodings)
    field_limit = limit("FIELD_BYTES")
    csv.field_size_limit(field_limit)
    stream, raw = _open_binary(path)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    lines = _BoundedLines(text, field_limit)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path.name}: the file is empty") from None
    except csv.Error as exc:
        raise InputError(f"{path.name}:1: the header cannot be read as CSV: {_csv_problem(exc)}") from None
    except READ_ERRORS as exc:
        raise damaged(path, exc) from None
    except UnicodeDecodeError:
        raise encoding_error(path, encoding) from None
    lines.record_done()
    header = [name.strip() for name in header]
    if len(header) > limit("COLUMNS"):
        raise InputError(f"{path.name}:1: the header has {len(header):,} columns, more than "
                         f"{limit('COLUMNS'):,} ({override('COLUMNS')})")
    if not any(header):
        raise InputError(f"{path.name}:1: the first line is blank; a CSV file starts with its header")

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        try:
            for values in reader:
                lines.record_done()
                if values:  # blank lines between records carry nothing
                    yield start, values
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"{path.name}:{start}: this record cannot be read as CSV: {_csv_problem(exc)}") from None
        except READ_ERRORS as exc:
            raise damaged(path, exc) from None
        except UnicodeDecodeError:  # the whole file was checked first; this is the belt to those braces
            raise encoding_error(path, encoding) from None
        finally:
            text.close()

    return Table(path=path, header=header, rows=rows(), encoding=encoding, size=path.stat().st_size,
                 position=raw.tell)


LINE_TOO_LONG = "a line longer than the field bound"
RECORD_TOO_LONG = "a record longer than the record bound"
RECORD_FIELDS = 4  # a record (quoted fields of many lines) may hold this many fields' worth of text


class _BoundedLines:
    """The lines of `text` for csv.reader, each read at most `most` characters at a time, and no record longer
    than RECORD_FIELDS x `most`: a file of one endless line (a gigabyte of NUL bytes), or a record of many short
    lines in quotes, is a csv.Error before it is held, not after. `record_done` starts the count again."""

    def __init__(self, text: IO[str], most: int) -> None:
        self.text, self.most, self.held = text, most, 0

    def __iter__(self) -> Iterator[str]:
        while line := self.text.readline(self.most + 1):
            if len(line) > self.most and line[-1] not in "\r\n":
                raise csv.Error(LINE_TOO_LONG)
            self.held += len(line)
            if self.held > RECORD_FIELDS * self.most:
                raise csv.Error(RECORD_TOO_LONG)
            yield line

    def record_done(self) -> None:
        self.held = 0


def _csv_problem(exc: csv.Error) -> str:
    if str(exc) == RECORD_TOO_LONG:
        return (f"a record is longer than {RECORD_FIELDS * limit('FIELD_BYTES'):,} characters, more than any record a "
                f"dataset holds ({override('FIELD_BYTES')})")
    if str(exc) == LINE_TOO_LONG:
        return (f"a line is longer than {limit('FIELD_BYTES'):,} characters, more than any record a dataset holds "
                f"({override('FIELD_BYTES')})")
    if "field larger than field limit" in str(exc):
        return (f"a field is larger than {limit('FIELD_BYTES'):,} characters, more than any "
                f"text a dataset holds ({override('FIELD_BYTES')})")
    return str(exc)


WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _check_xlsx_size(path: Path) -> None:
    """openpyxl streams a sheet's rows but holds the rest of a workbook (its shared strings above all) in memory,
    at about seven times its unpacked size: a bound on every part but the sheets, before it opens one. The sheets
    are known by their content type, as openpyxl finds them, not by their names (a renamed part is still held)."""
    import xml.etree.ElementTree as ElementTree
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            types = archive.getinfo("[Content_Types].xml")
            if types.file_size > 1_000_000:
                raise InputError(f"{path.name}: not a readable XLSX workbook: its list of parts is "
                                 f"{types.file_size:,} bytes")
            declared: dict[str, set[str]] = {}
            for element in ElementTree.fromstring(archive.read(types)):
                declared.setdefault(element.get("PartName", "").lstrip("/"), set()).add(element.get("ContentType", ""))
            # a sheet is streamed; a part declared as a sheet and as anything else too is counted
            sheets = {name for name, kinds in declared.items() if kinds == {WORKSHEET}}
            held = sum(info.file_size for info in archive.infolist() if info.filename not in sheets)
    except KeyError:
        raise InputError(f"{path.name}: not a readable XLSX workbook: it has no [Content_Types].xml") from None
    except (zipfile.BadZipFile, OSError, ElementTree.ParseError) as exc:
        raise InputError(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    most = limit("XLSX_STRINGS_BYTES")
    if held > most:
        raise InputError(f"{path.name}: its text takes {held:,} bytes unpacked, more than {most:,}; save the "
                         f"sheet as CSV and import that ({override('XLSX_STRINGS_BYTES')})")


def open_xlsx(path: Path) -> Table:
    """The first sheet of an XLSX workbook; line numbers are spreadsheet row numbers."""
    _check_xlsx_size(path)
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise InputError("Reading XLSX needs openpyxl: pip install openpyxl") from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise InputError(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [str(value).strip() if value is not None else "" for value in next(iterator)]
    except StopIteration:
        raise InputError(f"{path.name}: the first sheet is empty") from None

    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime):
            return value.date().isoformat() if value.time() == time(0) else value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(iterator, start=2):
            if any(value is not None for value in values):
                yield number, [cell(value) for value in values]
        workbook.close()

    return Table(path=path, header=header, rows=rows(), encoding="xlsx", size=path.stat().st_size,
                 position=lambda: 0)


def open_table(path: Path, encodings: list[str]) -> Table:
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04":
        return open_xlsx(path)
    return open_csv(path, encodings)


def skip_hxl_row(table: Table) -> Table:
    """HDX downloads carry a second header row of HXL hashtags (#date+year, ...); drop it."""
    first = next(table.rows, None)
    if first is None:
        return table
    line, values = first
    if values and all(not v or v.startswith("#") for v in values) and any(v.startswith("#") for v in values):
        table.skipped_hxl_row = True
        return table

    rest = table.rows

    def chained() -> Iterator[tuple[int, list[str]]]:
        yield line, values
        yield from rest

    table.rows = chained()
    return table


def undecodable_position(path: Path, encoding: str) -> tuple[int, bytes]:
    """(line number, offending byte) of the first byte that `encoding` cannot decode; (0, b'') if none."""
    stream, raw = _open_binary(path)
    decoder = codecs.getincrementaldecoder(encoding)()
    line, offset_in_chunk = 1, 0
    with raw, contextlib.suppress(*READ_ERRORS):
        while chunk := stream.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder may hold back the tail of the previous chunk; count lines in what it saw.
                seen = exc.object[: exc.start]
                return line + seen.count(b"\n"), exc.object[exc.start : exc.start + 1]
            line += chunk.count(b"\n")
            offset_in_chunk += len(chunk)
    return 0, b""
