"""Rich tables the commands print (kept apart so commands stay one call and one print)."""

from __future__ import annotations

from rich.table import Table


def import_table(result) -> Table:
    table = Table(title="import: every input record kept or rejected")
    for col in ("file", "format", "inputs", "kept", "rejected", "top rejection reason"):
        table.add_column(col, justify="right" if col in ("inputs", "kept", "rejected") else "left")
    for f in result.files:
        top = max(f.reasons.items(), key=lambda kv: kv[1], default=("", 0))
        table.add_row(f.path, f.format, str(f.inputs), str(f.kept), str(f.rejected),
                      f"{top[0]} ({top[1]})" if top[1] else "")
    table.add_row("[bold]total", "", f"[bold]{result.inputs}", f"[bold]{len(result.kept)}",
                  f"[bold]{len(result.rejected)}", "")
    return table
