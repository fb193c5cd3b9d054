"""What a workbook was made from, recorded inside it so edits don't lose it.

A hidden sheet `_xlgd` (META_SHEET, spelt only here) holds the xlgd version, the resolved template
(data included) as JSON, and the digest of every part as xlgd wrote it (`seal`, `unchanged`: so
`generate` can tell its own untouched output from a workbook someone edited); custom document
properties repeat the essentials.
A person may edit every visible cell and the record survives, so verify,
diff and `charts regenerate` can rebuild what xlgd would have written.
"""

from __future__ import annotations

import json
import re
import zlib

from .. import __version__

META_SHEET = "_xlgd"
FORMAT = 1
RECORD_KEY = "record"  # column A of the record's row; columns B, C, ... hold the JSON
# A cell holds at most 32,767 characters (XlsxWriter cuts longer strings without a word), and a
# record embeds the data: 5,000 x values are ~90,000 characters. The JSON is split across the
# row's cells in pieces of CELL_CHARS, read back in column order.
CELL_CHARS = 32_000
MAX_RECORD_CHARS = 64 << 20
WRITTEN_KEY = "written"  # column A of the row whose column B holds the digest of the parts (`seal`)
UNSEALED = "sha256:" + "0" * 64  # where the digest goes, as the parts are digested
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
NOTE = "Written by xlgd: what this workbook was made from. Keep it so `xlgd verify` can check it."


def record(recipe) -> dict:
    tpl = json.loads(json.dumps(recipe.resolved, default=float))
    d = recipe.data
    # Embed the data so the record is self-contained (a CSV may move).
    tpl["data"] = {"source": "list", "x": [float(v) for v in d.x], "true_a": d.true_a, "true_b": d.true_b}
    if d.y_given is not None:
        tpl["data"]["y"] = [float(v) for v in d.y_given]
    return {
        "xlgd": __version__,
        "format": FORMAT,
        "template": recipe.name,
        "data_source": d.source,
        "resolved": tpl,
        "sheets": [
            {"name": s.name, "model": s.model, "optimizer": s.optimizer, "convention": s.convention,
             "grad": s.grad, "epochs": s.epochs, "n_data": s.n_data}
            for s in recipe.sheets
        ],
    }


def pieces(text: str) -> list[str]:
    """The record's JSON in cell-sized pieces (columns B, C, ... of the record row)."""
    return [text[i:i + CELL_CHARS] for i in range(0, len(text), CELL_CHARS)] or [""]


def read(package) -> dict | None:
    """The record of an xlgd workbook (an open `xlsx.package.Package`), or None if it has none.

    The one reader of the record: verify, diff and `charts regenerate` ask here. A record that
    is there but cannot be read (cut short, edited into invalid JSON, nested past reason) is an
    XlgdError; verify turns that into a warning and checks the book without it."""
    from ..errors import XlgdError

    if META_SHEET not in package.sheet_names:
        return None
    cells = package.values(META_SHEET, (1, 10), None)
    row = next((r for r in range(1, 11) if cells.get((r, 1)) == RECORD_KEY and isinstance(cells.get((r, 2)), str)),
               None)
    if row is None:
        return None  # a sheet of that name, but no record: not ours
    text = "".join(_row_texts(cells, row))
    rec = None
    if len(text) <= MAX_RECORD_CHARS:
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError):
            rec = None
    if isinstance(rec, dict) and isinstance(rec.get("resolved"), dict):
        return rec
    raise XlgdError(f"{package.path}: the hidden {META_SHEET} record is damaged; "
                    f"cannot tell what the workbook was made from")


def _row_texts(cells, row):
    col = 2
    while isinstance(cells.get((row, col)), str):
        yield cells[(row, col)]
        col += 1


def seal(parts) -> str:
    """The digest of a package's parts: sha256 over each part's name, size and CRC-32, in name order.

    parts: (name, uncompressed size, CRC-32) of every zip member, the record's own part as it is
    with UNSEALED where its digest goes. Any edit to any part (a cell, a style, a re-save by another
    program) changes a size or a CRC, so it changes the digest."""
    import hashlib  # here: only an xlgd workbook's record is sealed or checked

    h = hashlib.sha256()
    for name, size, crc in sorted(parts):
        h.update(f"{name}\0{size}\0{crc:08x}\n".encode("utf-8", "surrogatepass"))
    return "sha256:" + h.hexdigest()


def written(package) -> str | None:
    """The digest of the parts xlgd wrote (`seal`), as the workbook's record holds it; None when it holds none."""
    if META_SHEET not in package.sheet_names:
        return None
    cells = package.values(META_SHEET, (1, 10), None)
    digest = next((cells.get((r, 2)) for r in range(1, 11) if cells.get((r, 1)) == WRITTEN_KEY), None)
    return digest if isinstance(digest, str) and _DIGEST.fullmatch(digest) else None


def unchanged(package) -> bool:
    """True if the workbook (an open `xlsx.package.Package`) holds every part exactly as xlgd wrote
    it: its record's digest (`written`) matches its parts. A workbook without a digest -- another
    program's, or one whose record was edited or lost -- is not unchanged."""
    digest = written(package)
    if digest is None:
        return False
    own = package.sheet_part(META_SHEET)
    parts = []
    for member in package.members():
        if member.filename == own:
            data = package.part(own).replace(digest.encode(), UNSEALED.encode())
            parts.append((own, len(data), zlib.crc32(data)))
        else:
            parts.append((member.filename, member.file_size, member.CRC))
    return seal(parts) == digest
