"""The one kind of table the screens use: a row cursor, zebra stripes and keyed columns."""

from __future__ import annotations

from textual.widgets import DataTable


def keyed_table(columns: tuple[tuple[str, str], ...], *, id: str) -> DataTable:
    """A table with ``columns`` (key, label) already added, so cells can be addressed as (row key, column key)."""
    table: DataTable = DataTable(id=id, cursor_type="row", zebra_stripes=True)
    for key, label in columns:
        table.add_column(label, key=key)
    return table
