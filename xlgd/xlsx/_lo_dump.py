"""Run by the system Python (which has LibreOffice's `uno`): recalculate a
workbook in LibreOffice and dump every cell's value as an exact double.

A saved .xlsx or .ods holds 15 significant digits; the running spreadsheet's doubles show whether it
agrees with the engine to the last bit.

usage: python3 _lo_dump.py SOFFICE PROFILE_DIR BOOK OUT.json
"""

import json
import os
import subprocess
import sys
import time

import uno  # noqa: F401  (system python3-uno)
from com.sun.star.beans import PropertyValue

# LibreOffice's internal error numbers, as Excel shows them.
LO_ERRORS = {532: "#DIV/0!", 503: "#NUM!", 502: "#VALUE!", 519: "#VALUE!", 524: "#REF!", 525: "#NAME?",
             32767: "#N/A", 521: "#NULL!", 504: "#VALUE!", 523: "#NUM!"}


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(soffice, profile, book, out):
    pipe = f"xlgd{os.getpid()}"
    proc = subprocess.Popen([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
                             "--norestore", "--nologo", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        ctx = None
        for _ in range(600):
            try:
                ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                break
            except Exception:
                if proc.poll() is not None:
                    raise SystemExit("soffice exited without accepting a connection")
                time.sleep(0.1)
        if ctx is None:
            raise SystemExit("could not connect to soffice")
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        url = uno.systemPathToFileUrl(os.path.abspath(book))
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        t0 = time.time()
        doc.calculateAll()
        calc_seconds = time.time() - t0
        result = {"calc_seconds": calc_seconds, "sheets": {}}
        sheets = doc.getSheets()
        for name in sheets.getElementNames():
            sh = sheets.getByName(name)
            cur = sh.createCursor()
            cur.gotoEndOfUsedArea(False)
            addr = cur.getRangeAddress()
            rng = sh.getCellRangeByPosition(0, 0, addr.EndColumn, addr.EndRow)
            values = [list(r) for r in rng.getDataArray()]
            errors = {}
            from com.sun.star.sheet.FormulaResult import ERROR
            found = rng.queryFormulaCells(ERROR)
            for a in found.getRangeAddresses():
                for row in range(a.StartRow, a.EndRow + 1):
                    for col in range(a.StartColumn, a.EndColumn + 1):
                        code = sh.getCellByPosition(col, row).getError()
                        errors[f"{row},{col}"] = LO_ERRORS.get(code, f"Err:{code}")
            result["sheets"][name] = {"values": values, "errors": errors}
        doc.close(True)
        with open(out, "w") as f:
            json.dump(result, f)
    finally:
        try:
            desktop.terminate()
        except Exception:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main(*sys.argv[1:5])
