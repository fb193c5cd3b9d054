"""Excel's semantics xlgd either reproduces or leaves unchecked with the reason, on books written as Excel
writes them with the values Excel saved for the same formulas in the `formulas` project's test workbook:
no cause where only xlgd's reading differs; a value off by more than the semantics allow is still a cause."""

from tests.excel_books import cause_cells, verify_json, write


def test_text_read_as_a_date_is_unchecked_with_the_reason(tmp_path):
    """`AVERAGE(..,"29/02/1900")` and `NORM.INV(0.3,I25,2)` with I25 the text 29/02/1900: Excel reads the
    text as a date (serial 60) by its locale; xlgd does not parse dates."""
    cells = {"E4": 2.3, "F4": 10.0, "I25": "29/02/1900",
             "T4": ('AVERAGE(E4:F4,"29/02/1900")', 24.1),
             "X25": ("_xlfn.NORM.INV(0.3,I25,2)", 58.95119897458392),
             "B1": ("E4*2", 4.6)}
    rc, rep = verify_json(write(tmp_path / "d.xlsx", {"S": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 1, rep
    reasons = " ".join(str(u) for s in rep["sheets"] for u in s.get("unchecked", []))
    assert "29/02/1900" in reasons and "date" in reasons, rep


def test_countif_with_an_error_criterion_counts_that_error(tmp_path):
    """`COUNTIF(K24:L24,K24)` with K24 #VALUE! and L24 #N/A: Excel saved 1."""
    cells = {"K24": ("#VALUE!+1", "#VALUE!"), "L24": ("NA()", "#N/A"),
             "AB24": ("COUNTIF(K24:L24,K24)", 1.0)}
    rc, rep = verify_json(write(tmp_path / "c.xlsx", {"S": cells}))
    assert rc == 0 and rep["checked"] == 3, rep
    cells["AB24"] = ("COUNTIF(K24:L24,K24)", 2.0)
    rc, rep = verify_json(write(tmp_path / "c2.xlsx", {"S": cells}))
    assert rc == 1 and cause_cells(rep) == ["S!AB24"], rep


def _reasons(rep) -> str:
    return " ".join(str(u) for s in rep["sheets"] for u in s.get("unchecked", []))


def test_a_reference_to_another_workbook_is_unchecked(tmp_path):
    """`=A2:'[2]MISSING'!A2` (Excel saved #VALUE!) and `='[2]MISSING'!A2+1` read another workbook."""
    cells = {"A2": 1.0, "P18": ("A2:'[2]MISSING'!A2", "#VALUE!"), "P19": ("'[2]MISSING'!A2+1", 3.0),
             "B1": ("A2*2", 2.0)}
    rc, rep = verify_json(write(tmp_path / "x.xlsx", {"CORE": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 1, rep
    assert "another workbook" in _reasons(rep), rep


def test_one_value_functions_given_an_array_apply_cell_by_cell(tmp_path):
    """Array formulas Excel applies cell by cell: `{=CHOOSE(D5:F5,...)}`, `{=ISBLANK(H6:Q6)}`,
    `{=HLOOKUP(C44:E44,{..},{2,1},0)}` -- values Excel saved, each checked; a value Excel would not give
    is a cause."""
    cells = {"C5": -2.0, "D5": 1.0, "E5": 2.0, "F5": 3.0, "H6": None, "I6": 4.0,
             "AG5": ("CHOOSE(D5:F5,C5:E5,2,3)", -2.0, "AG5"),
             "AH6": ("ISBLANK(H6:I6)", True, "AH6"),
             "AH44": ("HLOOKUP(C5:E5,{-2,1;5,6},{2,1},0)", 5.0, "AH44"),
             "B1": ("C5*2", -4.0)}
    rc, rep = verify_json(write(tmp_path / "a.xlsx", {"L": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 4 and not _reasons(rep), rep
    cells["AH44"] = ("HLOOKUP(C5:E5,{-2,1;5,6},{2,1},0)", 6.0, "AH44")
    rc, rep = verify_json(write(tmp_path / "b.xlsx", {"L": cells}))
    assert rc == 1 and cause_cells(rep) == ["L!AH44"], rep


def test_and_or_error_before_text_and_numeric_text_skipped(tmp_path):
    """Excel saved #REF! for `AND(TRUE,"ciao",#REF!,"0")` and `OR(TRUE,"0",#REF!)`, TRUE for
    `AND(TRUE,"0")`; a FALSE where Excel's TRUE is is still a cause."""
    cells = {"AP3": ('AND(TRUE,"0",#REF!)', "#REF!"), "AS3": ('AND(TRUE,"ciao",#REF!,"0")', "#REF!"),
             "AP21": ('OR(TRUE,"0",#REF!)', "#REF!"), "AT3": ('AND(TRUE,"0")', True)}
    rc, rep = verify_json(write(tmp_path / "l.xlsx", {"LOGICAL": cells}))
    assert rc == 0 and rep["checked"] == 4, rep
    cells["AT3"] = ('AND(TRUE,"0")', False)
    rc, rep = verify_json(write(tmp_path / "m.xlsx", {"LOGICAL": cells}))
    assert rc == 1 and "LOGICAL!AT3" in cause_cells(rep), rep


def test_sumproduct_of_unequal_sizes_gives_the_first_error(tmp_path):
    """`SUMPRODUCT(P75:Q75,H75:I75,I75:K75)` with P75 #NUM!, Q75 #REF!, K75 #VALUE!: Excel saved #NUM!;
    of unequal sizes without errors, #VALUE!."""
    cells = {"P75": ("SQRT(-1)", "#NUM!"), "Q75": ("#REF!+1", "#REF!"), "I75": "ciao", "J75": True,
             "K75": ("#VALUE!+1", "#VALUE!"), "L75": 1.0, "M75": 2.0, "N75": 3.0,
             "AE75": ("SUMPRODUCT(P75:Q75,H75:I75,I75:K75)", "#NUM!"),
             "AF75": ("SUMPRODUCT(L75:M75,L75:N75)", "#VALUE!")}
    rc, rep = verify_json(write(tmp_path / "s.xlsx", {"M": cells}))
    assert rc == 0 and rep["checked"] == 5 and cause_cells(rep) == [], rep


def test_index_and_countif_given_arrays_apply_cell_by_cell(tmp_path):
    """`{=INDEX(C52:H54,E53:E54,1)}` and `{=COUNTIF(F24:J24,{"*ao","",TRUE})}` as Excel saved them are
    checked; `=INDEX(C52:E53,2)` (Excel saved #REF!: a whole row in one cell) is left unchecked."""
    cells = {"C52": -1.1, "D52": 2.1, "C53": -2.0, "D53": 4.0, "E53": 2.0, "E54": 1.0, "F24": "ciao",
             "AH52": ("INDEX(C52:E54,E53:E54,1)", -2.0, "AH52:AH53"), "AH53": (None, -1.1),
             "AH24": ('COUNTIF(F24:J24,{"*ao","",TRUE})', 1.0, "AH24:AJ24"), "AI24": (None, 4.0),
             "AJ24": (None, 0.0), "R53": ("INDEX(C52:E53,2)", "#REF!"), "B1": ("C52*2", -2.2)}
    rc, rep = verify_json(write(tmp_path / "i.xlsx", {"L": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 6, rep
    assert "INDEX of a table with one index outside" in _reasons(rep), rep


def test_lookup_given_an_array_spreads_and_mixed_types_is_unchecked(tmp_path):
    """`{=LOOKUP(C56:E56,{..},{..})}` spreads cell by cell in Excel (checked); `=LOOKUP(I56,{"b",4.1,"a",1.1})`
    (Excel saved "a") searches text and numbers mixed: left unchecked with the reason."""
    cells = {"C56": -1.0, "D56": 2.5, "E56": 3.5, "I56": "ab", "B1": ("C56*2", -2.0),
             "AH56": ('LOOKUP(C56:E56,{-1.1,2.1,3.1},{"L","ML","MR"})', "L", "AH56:AJ56"),
             "AI56": (None, "ML"), "AJ56": (None, "MR"),
             "X60": ('LOOKUP(I56,{"b",4.1,"a",1.1})', "a")}
    rc, rep = verify_json(write(tmp_path / "k.xlsx", {"LOOKUP": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["checked"] == 4, rep
    assert "LOOKUP with an array" not in _reasons(rep) and "mixed" in _reasons(rep), rep


def test_excels_own_rules_for_arrays_and_new_functions(tmp_path):
    """Values Excel saved in the formulas project's test.xlsx: HLOOKUP reads an array row index's first value
    (`{2,1}`: row 2 everywhere); an Analysis ToolPak function given a range in an array formula is #VALUE!; N
    of a range its first value; COUNTIF's "TRUE" counts TRUE; SUBSTITUTE with a blank instance and FIND with a
    blank start are #VALUE!; TRUNC reads 15 digits; XLOOKUP of an error is that error; XMATCH ranks text and
    TRUE above numbers; YEARFRAC's basis 1 counts 1900 as 365 days. All checked, none a cause."""
    cells = {"C44": -1.1, "D44": 2.1, "E44": 3.0, "C26": 0.0, "D26": 9999999999.0, "C19": 4.0, "D19": 1.0,
             "E19": 2.3, "F24": 10.0, "G24": -1.0, "I24": "29/02/1900", "J24": True, "T14": "0, 1.9 TRUE",
             "E14": -0.8999999999999999, "L162": ("NA()", "#N/A"), "I189": "*b?u*", "J189": True,
             "C27": 1987.0, "D27": 1.0,
             "AH44": ("HLOOKUP(C44:E44,{-1.1,2.1,3.1,4.1;5,6,7,8},{2,1},0)", 5.0, "AH44:AJ44"), "AI44": (None, 6.0),
             "AJ44": (None, "#N/A"), "AH26": ("HEX2BIN(C26:D26)", "#VALUE!", "AH26:AI26"), "AI26": (None, "#VALUE!"),
             "AH19": ("N(C19:E19)", 4.0, "AH19:AJ19"), "AI19": (None, 4.0), "AJ19": (None, 4.0),
             "AJ24": ('COUNTIF(F24:J24,"TRUE")', 1.0), "AA14": ("SUBSTITUTE(T14,TRUE,AA12,AA11)", "#VALUE!"),
             "W16": ('FIND("ia","ciao",H16)', "#VALUE!"), "C14": ("TRUNC(E14,1)", -0.9),
             "AA163": ('_xlfn.XLOOKUP(L162,{"a",2.1,"b",4.1},{"L","ML","MR","R"},1)', "#N/A"),
             "X189": ("_xlfn.XMATCH(I189,{-1.1,2.1,3.1,4.1},-1)", 4.0),
             "Y189": ("_xlfn.XMATCH(J189,{-1.1,2.1,3.1,4.1},-1)", 4.0),
             "R27": ("YEARFRAC(C27,345,D27)", 4.496576905522592)}
    rc, rep = verify_json(write(tmp_path / "r.xlsx", {"S": cells}))
    assert rc == 0 and cause_cells(rep) == [] and rep["unchecked_cells"] == 0, rep
    assert rep["checked"] == rep["formula_cells"] == 17, rep
    cells["AI44"] = (None, 2.1)  # row 1 for the second cell: not what Excel does
    rc, rep = verify_json(write(tmp_path / "w.xlsx", {"S": cells}))
    assert rc == 1, rep


def test_cells_past_an_array_formulas_arrays_with_is_functions_are_unchecked(tmp_path):
    """`{=ISBLANK(D6:F6)}` over AI6:AL6: Excel saved FALSE in AL6 (ISBLANK of the #N/A past the range); xlgd
    leaves that cell unchecked with the reason, the three others checked."""
    cells = {"D6": 1.0, "AI6": ("ISBLANK(D6:F6)", False, "AI6:AL6"), "AJ6": (None, True), "AK6": (None, True),
             "AL6": (None, False)}
    rc, rep = verify_json(write(tmp_path / "b.xlsx", {"S": cells}))
    assert rc == 0 and rep["checked"] == 3 and rep["unchecked_cells"] == 1, rep
    assert "past the size of its array formula's arrays" in rep["unchecked"][0]["reason"], rep
