"""Page setup: what a printed workbook shows, and on how many pages.

Each sheet prints its table only, one page wide and as many pages down as it needs, with its header
row repeated, gridlines, and the sheet's name and page number in the footer. The charts float
beside the table and are left out (at one page wide they would shrink it); `xlgd charts render`
writes each chart to a PNG.
"""

from __future__ import annotations

from ..layout import HEADER_ROW

FOOTER = "&L&A&RPage &P of &N"  # sheet name left, page number right


def print_table(sheet, last_row, last_col, header_row=None, landscape=True, gridlines=True):
    """Print A1 to (last_row, last_col) (0-based), one page wide, the header row on every page."""
    sheet.print_area(0, 0, last_row, last_col)
    sheet.fit_to_pages(1, 0)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    if header_row is not None:
        sheet.repeat_rows(header_row)
    if gridlines:
        sheet.hide_gridlines(0)  # 0: gridlines on screen and on paper
    sheet.set_footer(FOOTER)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)


def print_step_sheet(sheet, layout):
    """A step sheet: the step table and the epoch block to its right, its column headers on every page."""
    print_table(sheet, layout.last_row - 1, max(layout.epoch_index.values()), HEADER_ROW - 1)
