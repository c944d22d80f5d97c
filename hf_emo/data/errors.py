"""One error type for bad data, with the file, row and column it concerns in its message."""

from __future__ import annotations


class DataError(ValueError):
    """Bad input data. The message names the file, the row (1-based, as a person counts) and the column."""

    def __init__(self, problem: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        self.file, self.row, self.column, self.problem = file, row, column, problem
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)
