"""The survey reader never fails with anything but a clear :class:`RoofpvError`: random
bytes, random cells and random headers give a table with findings or that error."""

import csv
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roofpv.errors import RoofpvError
from roofpv.inputs.survey_table import normalise_survey
from roofpv.io.readers import read_survey
from roofpv.schema import COLUMN_ALIASES

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

KNOWN = [alias for aliases in COLUMN_ALIASES.values() for alias in aliases[:3]]
headers = st.one_of(st.sampled_from(KNOWN), st.sampled_from([f"{h}(kg/m²)" for h in KNOWN[:20]]),
                    st.text(max_size=12))
cells = st.one_of(
    st.none(), st.text(max_size=20), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.sampled_from(["2,5", "1,250", "250千克/平方米", "=1+2", "\u200bA", "Ａ１", "1e309", "-0", "亩", "n/a",
                     "100006475.0", " ", "2.0kN/m²", "0.5MW", "１２３"]),
)


def read(path):
    try:
        table, findings = read_survey(path)
    except RoofpvError as exc:
        assert str(exc).startswith(str(path)), exc  # the message names the file
        return
    assert table.index.is_unique
    assert all(f.file == str(path) for f in findings)


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"survey{suffix}"
    path.write_bytes(data)
    read(path)


@SETTINGS
@given(names=st.lists(headers, min_size=1, max_size=6),
       rows=st.lists(st.lists(cells, min_size=0, max_size=8), max_size=8),
       with_id=st.booleans())
def test_random_headers_and_cells_in_a_csv(tmp_path_factory, names, rows, with_id):
    if with_id:
        names = ["建筑编号", *names]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerows([["" if c is None else c for c in row] for row in rows])
    path = tmp_path_factory.mktemp("csv") / "survey.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    read(path)


@SETTINGS
@given(names=st.lists(headers, min_size=1, max_size=6, unique=True),
       rows=st.lists(st.lists(cells, min_size=6, max_size=6), max_size=8))
def test_random_cells_as_an_xlsx_would_give_them(names, rows):
    names = ["建筑编号", *names]
    raw = pd.DataFrame([row[: len(names)] + [None] * (len(names) - len(row)) for row in rows],
                       columns=names, dtype=object)
    try:
        table, findings = normalise_survey(raw, "s.xlsx")
    except RoofpvError as exc:
        assert str(exc).startswith("s.xlsx"), exc
        return
    assert table.index.is_unique and all(isinstance(i, str) for i in table.index)
