"""Reading an import file in batches of columns, for the columnar import path.

A plain UTF-8 CSV is read with pyarrow's streaming CSV reader, every column as text. pyarrow and the csv
module read the same records (tests/test_columnar.py holds them to it: quotes in mid-field, text after a
closing quote, a space before a quote, "", CRLF, quoted newlines). Where they could differ, today's reader
(reading.open_table) reads instead: a file with a byte-order mark, gzip, XLSX, blank lines (the csv module
counts them in line numbers; pyarrow skips them), a lone carriage return, a header over more than one line.
A record pyarrow cannot read (a ragged row, an open quote) or a field over the field bound hands the rest of
the file, from the start of that batch, to today's reader, which says what is wrong as it always has.

Each batch carries the file line of every record, for messages. Rows that today's reader finds ragged come
alone, as a Ragged, in their place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from incidents.io.importers.reading import Table, open_table, skip_hxl_row
from incidents.limits import limit

BLOCK_BYTES = 1 << 20  # pyarrow reads the file in blocks of this many bytes: a batch of about 4,000 rows
ROWS_PER_BATCH = 20_000  # a batch built from today's reader


@dataclass(slots=True)
class Batch:
    """Records in columns (pyarrow string arrays, in header order) and the line each starts on."""

    columns: list[pa.Array]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.lines)

    def row(self, index: int) -> list[str]:
        return [column[index].as_py() for column in self.columns]


@dataclass(slots=True)
class Ragged:
    """A record whose field count is not the header's (only today's reader yields one)."""

    line: int
    values: list[str]


class _HandOver(Exception):
    """pyarrow cannot go on; today's reader takes the file from record `done` (counted from the first)."""

    def __init__(self, done: int) -> None:
        super().__init__(done)
        self.done = done


def fast_readable(path: Path, table: Table) -> bool:
    """Whether pyarrow reads `path` record for record and line for line as today's reader does."""
    if table.encoding != "utf-8":
        return False
    with path.open("rb") as handle:
        head = handle.read(3)
        if head[:2] == b"\x1f\x8b" or head == b"\xef\xbb\xbf":
            return False
        handle.seek(0)
        if handle.readline().count(b'"') % 2:  # a header in quotes over more than one line
            return False
        handle.seek(0)
        carry = b""
        blank_seen = False  # blank lines at the very end are harmless: nothing follows them
        while chunk := handle.read(1 << 24):
            block = carry + chunk
            if blank_seen and block.strip(b"\r\n"):
                return False
            found = min((at for at in (block.find(b"\n\n"), block.find(b"\n\r\n")) if at >= 0), default=-1)
            if found >= 0:
                if block[found:].strip(b"\r\n"):
                    return False
                blank_seen = True
            lone = _LONE_CR.search(block)
            if lone and lone.start() < len(block) - 1:  # a last \r may have its \n in the next chunk
                return False
            carry = block[-2:]
        if carry.endswith(b"\r"):
            return False
    return True


_LONE_CR = re.compile(rb"\r(?!\n)")


def read_batches(path: Path, table: Table, encodings: list[str],
                 progress: Callable[[int], None] | None = None) -> Iterator[Batch | Ragged]:
    """The records of `table` (opened by reading.open_table, its header read) in batches, in file order."""
    width = len(table.header)
    if fast_readable(path, table):
        done = 0
        try:
            for batch in _arrow_batches(path, width, table.skipped_hxl_row, progress):
                done += len(batch)
                yield batch
            return
        except _HandOver as handover:
            done = handover.done
        table = skip_hxl_row(open_table(path, encodings))
        table.rows = islice(table.rows, done, None)
    yield from _row_batches(table, width)


def _arrow_batches(path: Path, width: int, skip_first: bool,
                   progress: Callable[[int], None] | None) -> Iterator[Batch]:
    names = [f"c{index}" for index in range(width)]
    most = limit("FIELD_BYTES")
    raw = pa.OSFile(str(path), "rb")
    try:
        reader = pacsv.open_csv(
            raw, read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, OSError):
        raise _HandOver(0) from None
    line = 2
    done = 0
    while True:
        try:
            record_batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError):  # a ragged row, an open quote, a row over the block size
            raise _HandOver(done) from None
        columns = list(record_batch.columns)
        if skip_first:  # the HXL hashtag row under the header
            columns = [column[1:] for column in columns]
            line += 1 + _line_breaks(record_batch.slice(0, 1).columns)[0]
            skip_first = False
        if columns and len(columns[0]) and _longest_record(columns) > most:
            raise _HandOver(done)  # today's reader names the record and the bound it passes
        breaks = _line_breaks(columns)
        lines = []
        for extra in breaks:
            lines.append(line)
            line += 1 + extra
        done += len(lines)
        if progress:
            progress(raw.tell())
        if lines:
            yield Batch(columns, lines)


def _longest_record(columns: list[pa.Array]) -> int:
    """The bytes of the longest record, its separators counted: above the field bound, today's reader refuses
    the record (a field, a line or the record is too long), so it is the one to read it."""
    total = None
    for column in columns:
        length = pc.binary_length(column)
        total = length if total is None else pc.add(total, length)
    return int(pc.max(total).as_py()) + len(columns)


def _line_breaks(columns: list[pa.Array]) -> list[int]:
    """How many line breaks each record holds inside its quoted values."""
    total = None
    for column in columns:
        count = pc.count_substring(column, "\n")
        total = count if total is None else pc.add(total, count)
    return total.to_pylist() if total is not None else []


def _row_batches(table: Table, width: int) -> Iterator[Batch | Ragged]:
    lines: list[int] = []
    rows: list[list[str]] = []

    def batch() -> Batch:
        columns = [pa.array(list(values), pa.string()) for values in zip(*rows, strict=True)]
        return Batch(columns, list(lines))

    for line, values in table.rows:
        if len(values) != width:
            if rows:
                yield batch()
                lines.clear()
                rows.clear()
            yield Ragged(line, values)
            continue
        lines.append(line)
        rows.append(values)
        if len(rows) >= ROWS_PER_BATCH:
            yield batch()
            lines.clear()
            rows.clear()
    if rows:
        yield batch()
