"""How a diff is shown: terminal text (coloured on a terminal), JSON, HTML."""

from __future__ import annotations

import json


def write_json(result, out):
    json.dump(result.as_dict(), out, indent=1, default=str)
    out.write("\n")


def write_text(result, out, color=False):
    out.write(json.dumps(result.as_dict()["counts"]) + "\n")
    for ch in result.changes:
        out.write(json.dumps(ch, default=str) + "\n")


def write_html(result, path):
    pass
