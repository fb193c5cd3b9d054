"""Page setup: what a printed workbook shows, and on how many pages.

Each sheet prints its table only, one page wide and as many pages down as it needs, with its header
row repeated, gridlines, and the sheet's name and page number in the footer. The charts float
beside the table and are left out (at one page wide they would shrink it); `xlgd charts render`
writes each chart to a PNG.
"""

from __future__ import annotations

from ..layout import HEADER_ROW

FOOTER = "&L&A&RPage &P of &N"  # sheet name left, page number right


def print_table(ws, last_row, last_col, header_row=None, landscape=True, gridlines=True):
    """Print A1 to (last_row, last_col) (0-based), one page wide, the header row on every page."""
    ws.print_area(0, 0, last_row, last_col)
    ws.fit_to_pages(1, 0)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if header_row is not None:
        ws.repeat_rows(header_row)
    if gridlines:
        ws.hide_gridlines(0)  # 0: gridlines on screen and on paper
    ws.set_footer(FOOTER)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)


def print_step_sheet(ws, lay):
    """A step sheet: the step table and the epoch block to its right, its column headers on every page."""
    print_table(ws, lay.last_row - 1, max(lay.epoch_index.values()), HEADER_ROW - 1)
