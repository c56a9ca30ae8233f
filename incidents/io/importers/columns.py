"""The columnar import path's checks: a batch's columns checked at C speed, each distinct value once.

A column of few distinct values (dates, countries, tolls, places, perpetrator cells) is parsed one distinct
value at a time by the very functions the per-row mappers call, so a value means the same on both paths. A
column of many (keys, titles, URLs, excerpts) is checked with pyarrow.compute: a cell that the per-row path
would change before storing it (padded with whitespace, or starting with the exports' apostrophe), that
holds a NUL, or that is too long for its column, sends its row the per-row way.

A row that any check does not accept is not refused here: it goes through the format's per-row mapper and
validation, which refuse it (or accept it) with exactly today's message. So these checks only ever decide
which path a row takes, never what a user is told.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from incidents.errors import FieldError, UsageError
from incidents.io.importers.batches import Batch

FAIL = object()  # what a distinct value's parse gives when the per-row path must read the row
_UNSEEN = object()
MAX_REMEMBERED = 100_000  # distinct values kept per column across batches (memory stays bounded)
# Characters str.strip() takes off: RE2's \s is only [\t\n\f\r ].
_SPACE = r"\s\x0b\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_PADDED_OR_ESCAPED = f"^[{_SPACE}']|[{_SPACE}]$|\\x00"


def unescaped(value: str) -> str:
    """A cell as the native mapper reads it: one leading apostrophe (the exports' spreadsheet escape) dropped."""
    return value[1:] if value[:1] == "'" else value


class Checked:
    """A batch's columns by header name, and which of its rows are still on the columnar path."""

    def __init__(self, batch: Batch, header: list[str], seen: dict[str, dict[str, Any]] | None = None) -> None:
        self.batch = batch
        # Distinct values parsed in earlier batches of the file, by column: a value is parsed once per import.
        self.seen = seen if seen is not None else {}
        self.size = len(batch)
        self.columns = {name: column for name, column in zip(header, batch.columns, strict=True)}
        self.fast = np.ones(self.size, dtype=bool)

    def per_row(self, rows: Any) -> None:
        """Send `rows` (a boolean mask or array) the per-row way."""
        mask = np.asarray(rows.to_numpy(zero_copy_only=False) if isinstance(rows, pa.Array) else rows, dtype=bool)
        self.fast &= ~mask

    def blank(self, name: str) -> None:
        """The column must be empty on the columnar path (a cell the per-row path reads in full: JSON)."""
        column = self.columns.get(name)
        if column is not None:
            self.per_row(pc.greater(pc.binary_length(column), 0))

    def text(self, name: str, most: int | None = None) -> list[str | None]:
        """A column of many values, None for blank: rows whose cell is padded, escaped, holds a NUL or is over
        `most` characters go the per-row way."""
        column = self.columns.get(name)
        if column is None:
            return [None] * self.size
        bad = pc.match_substring_regex(column, _PADDED_OR_ESCAPED)
        if most is not None:
            bad = pc.or_(bad, pc.greater(pc.utf8_length(column), most))
        self.per_row(bad)
        return [value or None for value in column.to_pylist()]

    def distinct(self, name: str, parse: Callable[[str], Any]) -> list[Any]:
        """`parse` (a cell, apostrophe dropped) over each distinct value; a FieldError, UsageError or FAIL, or a
        NUL in the cell, sends the rows holding it the per-row way. An absent column is a blank one."""
        column = self.columns.get(name)
        if column is None:
            result = _parse(parse, "")
            if result is FAIL:
                self.fast[:] = False
            return [result] * self.size
        return self._mapped(column, parse, name)

    def combined(self, names: list[str], parse: Callable[..., Any]) -> list[Any]:
        """`parse(*cells)` once per distinct combination of the columns (absent ones blank)."""
        present = [self.columns[name] for name in names if name in self.columns]
        if not present:
            return self.distinct("", lambda _: parse(*[""] * len(names)))
        joined = pc.binary_join_element_wise(*present, "\x1f") if len(present) > 1 else present[0]
        given = [name in self.columns for name in names]

        def split(cell: str) -> Any:
            parts = cell.split("\x1f")
            if len(parts) != len(present):  # a cell that holds the separator itself
                return FAIL
            cells = iter(map(unescaped, parts))  # each cell loses its own apostrophe, as the mapper's do
            return parse(*[next(cells) if here else "" for here in given])

        return self._mapped(joined, split, "\x1f".join(names), escaped=False)

    def _mapped(self, column: pa.Array, parse: Callable[[str], Any], name: str, escaped: bool = True) -> list[Any]:
        """`parse` over each distinct value of `column`, the apostrophe dropped first unless `escaped` is False
        (a combination's cells drop their own)."""
        encoded = column.dictionary_encode()
        results = np.empty(len(encoded.dictionary), dtype=object)
        failed = []
        known = self.seen.setdefault(name, {})
        for index, value in enumerate(encoded.dictionary.to_pylist()):
            result = known.get(value, _UNSEEN)
            if result is _UNSEEN:
                result = FAIL if "\x00" in value else _parse(parse, unescaped(value) if escaped else value)
                if len(known) < MAX_REMEMBERED:
                    known[value] = result
            results[index] = result
            if result is FAIL:
                failed.append(index)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        if failed:
            self.per_row(np.isin(indices, failed))
        return list(results[indices].tolist())

    def hashes(self) -> list[str]:
        """Each row's hash, as importing._row_hash makes it from the row's cells."""
        joined = pc.cast(pc.binary_join_element_wise(*self.batch.columns, "\x1f"), pa.binary())
        blake = hashlib.blake2b
        return [blake(row, digest_size=8).hexdigest() for row in joined.to_pylist()]


def _parse(parse: Callable[[str], Any], value: str) -> Any:
    try:
        return parse(value)
    except (FieldError, UsageError):
        return FAIL
