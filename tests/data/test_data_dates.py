"""Date columns read with the formats their schema lists, tried in order."""

from __future__ import annotations

import pandas as pd
import pytest

from algomancy_data import Column, CSVFile, DefaultETLFactory, Schema
from algomancy_data.dates import parse_dates


def test_each_value_is_read_with_the_first_format_that_fits() -> None:
    series = pd.Series(["31-01-2026", "2026/02/01", "", None, "01.02.2026", "yesterday"])
    values, bad = parse_dates(series, ["%d-%m-%Y", "%Y/%m/%d"])
    assert values.tolist()[:2] == [pd.Timestamp("2026-01-31"), pd.Timestamp("2026-02-01")]
    assert values.isna().tolist() == [False, False, True, True, True, True]
    assert bad.tolist() == [False, False, False, False, True, True]


def test_numbers_from_a_spreadsheet_are_read_as_their_digits() -> None:
    values, bad = parse_dates(pd.Series([20260131.0, None]), ["%Y%m%d"])
    assert values.tolist()[0] == pd.Timestamp("2026-01-31") and not bad.any()


def test_the_etl_reports_values_no_format_reads() -> None:
    schema = Schema(
        "days",
        columns=[
            Column("day", "date", formats=["%d-%m-%Y", "%m/%d/%Y"]),
            Column("at", "datetime", formats=["%d-%m-%Y %H:%M"]),
        ],
    )
    text = "day,at\n31-01-2026,31-01-2026 08:30\n02/28/2026,\n2026-13-45,x\n"
    result = DefaultETLFactory([schema]).run([CSVFile.from_bytes("days.csv", text.encode())], "d")
    assert [(m.code, m.column, m.row) for m in result.errors] == [
        ("invalid_value", "day", 3),
        ("invalid_value", "at", 3),
    ]
    assert result.errors[0].message == (
        "table 'days' column 'day': 1 value(s) are not a date in the formats %d-%m-%Y, "
        "%m/%d/%Y; rows 3 ('2026-13-45')"
    )
    lenient = DefaultETLFactory([schema], fail_on_error=False).run(
        [CSVFile.from_bytes("days.csv", text.encode())], "d"
    )
    assert lenient.data_source is not None
    table = lenient.data_source.get_table("days")
    assert table["day"].tolist()[:2] == [pd.Timestamp("2026-01-31"), pd.Timestamp("2026-02-28")]
    assert table["at"].tolist()[0] == pd.Timestamp("2026-01-31 08:30")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"type": "string", "formats": ["%Y"]}, "formats need the type 'date' or 'datetime'"),
        ({"type": "date", "formats": ["YYYY-MM-DD"]}, "must be strftime formats"),
        ({"type": "date", "formats": []}, "must be strftime formats"),
    ],
)
def test_bad_formats_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Column("day", **values)  # type: ignore[arg-type]
