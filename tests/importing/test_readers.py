"""The schedule readers of slotgen.importing, text in, rows and `FILE:LINE: message` out.

Pure tests: every file is a string passed to the parser, `existing` stands in for the ids
already in the database, and nothing touches a disk or a database. Expected line numbers
are found by searching the text for the offending line, never counted by hand.
"""

import json
from collections.abc import Iterable, Mapping, Set
from datetime import date, time
from typing import Any

import pytest

from slotgen.importing.checks import check_rows, ordered
from slotgen.importing.columns import COLUMNS, CONTACT_COLUMNS, TABLE_NAMES, TABLES, weekday
from slotgen.importing.formats import parse_csv, parse_file, parse_json, parse_toml
from slotgen.importing.rows import Checked, CleanRow, Parsed, Problem, SourceRow, Where

RULES = "availability_rules"
EXCEPTIONS = "availability_exceptions"
NOTHING_EXISTING: Mapping[str, Set[int]] = {}
IN_DATABASE: Mapping[str, Set[int]] = {"facilities": {1}, "doctors": {10}, "services": {5}}
"""Ids the rows of the small files below refer to, as if already in the database."""

RULE_HEADER = "id,facility_id,doctor_id,day_of_week,start_time,end_time,slot_duration_minutes"


# --------------------------------------------------------------------------------------
# Builders


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line number of the `occurrence`-th line of `text` containing `fragment`."""
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(numbers) >= occurrence, f"{fragment!r} is not in the text {occurrence} times"
    return numbers[occurrence - 1]


def messages(problems: Iterable[Problem]) -> list[str]:
    """Problems exactly as the CLI prints them, one `FILE:LINE: message` each."""
    return [str(problem) for problem in problems]


def parsed_ok(parsed: Parsed) -> list[SourceRow]:
    assert messages(parsed.problems) == []
    return parsed.rows


def check(parsed: Parsed, existing: Mapping[str, Set[int]] = NOTHING_EXISTING) -> Checked:
    """Check the rows of a file that itself parsed without a problem."""
    return check_rows(parsed_ok(parsed), existing)


def clean_rows(
    parsed: Parsed, existing: Mapping[str, Set[int]] = NOTHING_EXISTING
) -> list[CleanRow]:
    checked = check(parsed, existing)
    assert messages(checked.problems) == []
    return checked.rows


def problems_of(parsed: Parsed, existing: Mapping[str, Set[int]] = NOTHING_EXISTING) -> list[str]:
    checked = check(parsed, existing)
    assert checked.problems, "expected the input to be refused"
    return messages(checked.problems)


def toml_rule(**values: str) -> str:
    """One [[rules]] row in TOML: a valid Monday morning rule, with `values` replacing keys.

    Values are TOML source text (`'"09:00"'`, `"09:00:00"`, `"30"`); an empty string
    leaves the key out.
    """
    row = {
        "id": "100",
        "facility_id": "1",
        "doctor_id": "10",
        "day_of_week": '"monday"',
        "start_time": '"09:00"',
        "end_time": '"12:00"',
        "slot_duration_minutes": "30",
        **values,
    }
    keys = "".join(f"{key} = {value}\n" for key, value in row.items() if value)
    return f"[[rules]]\n{keys}"


def csv_text(header: str, *rows: str) -> str:
    return "".join(f"{line}\n" for line in (header, *rows))


def rule_row(id: int = 100, line: int = 1, **values: Any) -> SourceRow:
    """A rule row as a reader would hand it over, for tests of check_rows alone."""
    row: dict[str, Any] = {
        "id": id,
        "facility_id": 1,
        "doctor_id": 10,
        "day_of_week": 1,
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_duration_minutes": 30,
        **values,
    }
    return SourceRow(RULES, Where("clinic.toml", line), row)


def source_row(table: str, line: int, **values: Any) -> SourceRow:
    return SourceRow(table, Where("clinic.toml", line), values)


CLINIC_TOML = """\
# A facility, a doctor and a rule that refers to both.
[[facilities]]
id = 1
name = "Berlin Mitte"
timezone = "Europe/Berlin"

[[doctors]]
id = 10
name = "Dr. Weber"

[[rules]]
id = 100
facility_id = 1
doctor_id = 10
day_of_week = "Monday"
start_time = 09:00:00
end_time = "12:30"
slot_duration_minutes = 30
valid_from = 2027-01-04
valid_until = "2027-06-30"
"""


# --------------------------------------------------------------------------------------
# TOML


def test_toml_reads_facilities_doctors_and_short_named_rules_as_their_tables() -> None:
    rows = parsed_ok(parse_toml("clinic.toml", CLINIC_TOML))

    assert [(row.table, row.values.get("id")) for row in rows] == [
        ("facilities", 1),
        ("doctors", 10),
        (RULES, 100),
    ]
    assert [str(row.where) for row in rows] == [
        f"clinic.toml:{line_of(CLINIC_TOML, '[[facilities]]')}",
        f"clinic.toml:{line_of(CLINIC_TOML, '[[doctors]]')}",
        f"clinic.toml:{line_of(CLINIC_TOML, '[[rules]]')}",
    ]


def test_toml_rows_check_into_typed_values_with_toml_dates_and_times() -> None:
    facility, doctor, rule = clean_rows(parse_toml("clinic.toml", CLINIC_TOML))

    contact = dict.fromkeys((name for name, _ in CONTACT_COLUMNS), None)
    assert facility.values == {
        "name": "Berlin Mitte",
        "timezone": "Europe/Berlin",
        "holiday_country": None,
        "holiday_subdivision": None,
        **contact,
    }
    assert doctor.id == 10
    assert doctor.values == {"name": "Dr. Weber"}
    assert rule.id == 100
    assert rule.values["day_of_week"] == 1
    assert rule.values["start_time"] == time(9, 0)  # a TOML local time
    assert rule.values["end_time"] == time(12, 30)  # the same as text
    assert rule.values["valid_from"] == date(2027, 1, 4)  # a TOML local date
    assert rule.values["valid_until"] == date(2027, 6, 30)  # the same as text


def test_toml_date_and_time_values_read_the_same_as_their_quoted_forms() -> None:
    native = toml_rule(start_time="08:15:00", end_time="00:00:00", valid_from="2027-03-01")
    quoted = toml_rule(start_time='"08:15"', end_time='"00:00"', valid_from='"2027-03-01"')

    [from_native] = clean_rows(parse_toml("a.toml", native), IN_DATABASE)
    [from_quoted] = clean_rows(parse_toml("b.toml", quoted), IN_DATABASE)

    assert from_native.values == from_quoted.values
    assert from_native.values["valid_from"] == date(2027, 3, 1)


def test_toml_value_problems_are_reported_on_the_line_of_their_key() -> None:
    text = "\n".join(
        [
            toml_rule(id="100", day_of_week='"monday"'),
            toml_rule(id="101", day_of_week='"funday"', slot_duration_minutes='"half an hour"'),
        ]
    )

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, 'funday')}: day_of_week: unknown weekday 'funday': "
        "use a name (monday, mon) or 0 (Sunday) to 6 (Saturday)",
        f"clinic.toml:{line_of(text, 'half an hour')}: slot_duration_minutes: "
        "must be a whole number, got 'half an hour'",
    ]


def test_toml_that_does_not_parse_names_the_line_of_the_error() -> None:
    text = '[[doctors]]\nid = 1\nname = "Dr. Weber"\n\n[[doctors]]\nid = 2\nname = \n'

    parsed = parse_toml("clinic.toml", text)

    assert parsed.rows == []
    [problem] = messages(parsed.problems)
    assert problem.startswith(f"clinic.toml:{line_of(text, 'name = ', 2)}: not valid TOML: ")
    assert "(at line" not in problem, "the position is in FILE:LINE, not repeated in the text"


def test_toml_unknown_table_is_reported_on_its_header_line() -> None:
    text = '[[doctors]]\nid = 1\nname = "Dr. Weber"\n\n[[slots]]\nid = 1\n'

    parsed = parse_toml("clinic.toml", text)

    assert [row.table for row in parsed.rows] == ["doctors"]
    [problem] = messages(parsed.problems)
    assert problem.startswith(f"clinic.toml:{line_of(text, '[[slots]]')}: unknown table 'slots'")


def test_toml_unknown_column_is_reported_on_its_line_with_the_columns_to_use() -> None:
    text = '[[doctors]]\nid = 1\nname = "Dr. Weber"\ncolour = "blue"\n'

    assert problems_of(parse_toml("clinic.toml", text)) == [
        f"clinic.toml:{line_of(text, 'colour')}: unknown column 'colour' in doctors: use id, name"
    ]


def test_toml_key_line_is_the_key_itself_not_a_look_alike_inside_a_multiline_string() -> None:
    text = "\n".join(
        [
            "[[exceptions]]",
            "facility_id = 1",
            'reason = """Closed for the audit.',
            'start_date = see the memo"""',
            'start_date = "2027-02-30"',
            "",
        ]
    )

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, '2027-02-30')}: start_date: "
        "must be a date YYYY-MM-DD, got '2027-02-30'"
    ]


@pytest.mark.parametrize("column", ["created_at", "updated_at"])
def test_timestamp_columns_are_refused_as_set_by_the_database(column: str) -> None:
    text = f'[[doctors]]\nid = 1\nname = "Dr. Weber"\n{column} = 2027-01-01T00:00:00\n'

    assert problems_of(parse_toml("clinic.toml", text)) == [
        f"clinic.toml:{line_of(text, column)}: {column} is set by the database: leave it out"
    ]


# --------------------------------------------------------------------------------------
# JSON


def clinic_json(*rules: dict[str, Any]) -> str:
    """A JSON schedule, one key per line (as people and tools write it)."""
    document = {
        "facilities": [{"id": 1, "name": "Berlin Mitte", "timezone": "Europe/Berlin"}],
        "doctors": [{"id": 10, "name": "Dr. Weber"}],
        "availability_rules": list(rules),
    }
    return json.dumps(document, indent=2)


def json_rule(**values: Any) -> dict[str, Any]:
    return {
        "id": 100,
        "facility_id": 1,
        "doctor_id": 10,
        "day_of_week": "Mon",
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_duration_minutes": 30,
        **values,
    }


def test_json_rows_are_read_from_an_object_of_tables() -> None:
    text = clinic_json(json_rule(), json_rule(id=101, day_of_week=3, is_active=False))

    rows = clean_rows(parse_json("clinic.json", text))

    assert [(row.table, row.id) for row in rows] == [
        ("facilities", 1),
        ("doctors", 10),
        (RULES, 100),
        (RULES, 101),
    ]
    assert rows[2].values["day_of_week"] == 1
    assert rows[3].values["day_of_week"] == 3
    assert rows[3].values["is_active"] is False


def test_json_problems_are_reported_on_the_line_of_their_key() -> None:
    text = clinic_json(
        json_rule(),
        json_rule(id=101, start_time="9 o'clock", doctor_id=77),
    )
    start_line = line_of(text, "9 o'clock")
    doctor_line = line_of(text, '"doctor_id": 77')

    assert problems_of(parse_json("clinic.json", text)) == [
        f'clinic.json:{start_line}: start_time: must be a time HH:MM, got "9 o\'clock"',
        f"clinic.json:{doctor_line}: doctor_id: no doctors row with id 77, "
        "neither in the input nor in the database",
    ]


def test_json_rows_are_placed_on_the_line_of_their_opening_brace() -> None:
    text = "\n".join(
        [
            '{"doctors": [',
            '  {"id": 1, "name": "Dr. \\"Ann\\" Weber"},',
            "",
            '  {"id": 2,',
            '   "name": 3}',
            "]}",
        ]
    )

    rows = parsed_ok(parse_json("clinic.json", text))
    first, second, name = (line_of(text, key) for key in ('"id": 1', '"id": 2', '"name": 3'))

    assert [str(row.where) for row in rows] == [f"clinic.json:{first}", f"clinic.json:{second}"]
    assert rows[0].values["name"] == 'Dr. "Ann" Weber'
    assert problems_of(parse_json("clinic.json", text)) == [
        f"clinic.json:{name}: name: must be text, got 3"
    ]


def test_json_that_does_not_parse_names_the_line_of_the_error() -> None:
    text = '{\n  "doctors": [\n    {"id": 1, "name": "Dr. Weber",}\n  ]\n}\n'

    parsed = parse_json("clinic.json", text)

    assert parsed.rows == []
    [problem] = messages(parsed.problems)
    assert problem.startswith(f"clinic.json:{line_of(text, 'Dr. Weber')}: not valid JSON: ")


def test_json_that_is_not_an_object_of_tables_is_refused() -> None:
    parsed = parse_json("clinic.json", '[{"id": 1, "name": "Dr. Weber"}]')

    assert parsed.rows == []
    assert messages(parsed.problems) == ["clinic.json:1: expected an object of tables"]


# --------------------------------------------------------------------------------------
# CSV


@pytest.mark.parametrize(
    ("file_name", "table"),
    [
        ("availability_rules.csv", RULES),
        ("rules.csv", RULES),
        ("Rules.CSV", RULES),
        ("exceptions.csv", EXCEPTIONS),
        ("doctors.csv", "doctors"),
    ],
)
def test_csv_is_one_table_named_by_the_file(file_name: str, table: str) -> None:
    header = ",".join(["id", *(c.name for c in COLUMNS[table] if c.required)])
    parsed = parse_file(file_name, csv_text(header, ",".join("1" * len(header.split(",")))))

    [row] = parsed_ok(parsed)

    assert row.table == table
    assert str(row.where) == f"{file_name}:2"


def test_csv_empty_cells_mean_not_given_so_the_column_takes_its_default() -> None:
    text = csv_text(
        f"{RULE_HEADER},buffer_minutes,is_active,valid_until,service_id",
        "100,1,10,Mon,09:00,12:00,30,,,,",
        "101,1,10,Tue,09:00,12:00,30,10,no,2027-06-30,5",
    )

    defaulted, given = clean_rows(parse_csv("rules.csv", text), IN_DATABASE)

    assert defaulted.values["buffer_minutes"] == 0
    assert defaulted.values["is_active"] is True
    assert defaulted.values["valid_until"] is None
    assert defaulted.values["service_id"] is None
    assert given.values["buffer_minutes"] == 10
    assert given.values["is_active"] is False
    assert given.values["valid_until"] == date(2027, 6, 30)
    assert given.values["service_id"] == 5


def test_csv_cells_typed_with_spaces_after_the_commas_read_as_without() -> None:
    spaced = csv_text("name, timezone", "North , Europe/Berlin", " South,  Asia/Kathmandu ")
    plain = csv_text("name,timezone", "North,Europe/Berlin", "South,Asia/Kathmandu")

    read = clean_rows(parse_csv("facilities.csv", spaced), IN_DATABASE)

    assert [row.values for row in read] == [
        row.values for row in clean_rows(parse_csv("facilities.csv", plain), IN_DATABASE)
    ]
    assert [row.values["timezone"] for row in read] == ["Europe/Berlin", "Asia/Kathmandu"]


def test_csv_problems_name_the_line_of_their_row() -> None:
    text = csv_text(
        f"{RULE_HEADER},valid_from",
        "100,1,10,Mon,09:00,12:00,30,2027-01-04",
        "",
        "101,1,10,Tue,09:00,12:00,30,2027-13-01",
        "102,1,10,Wednesday,09:00,12:00,30,",
        "103,1,10,Thu,noon,12:00,30,",
    )

    assert problems_of(parse_csv("rules.csv", text), IN_DATABASE) == [
        f"rules.csv:{line_of(text, '2027-13-01')}: valid_from: "
        "must be a date YYYY-MM-DD, got '2027-13-01'",
        f"rules.csv:{line_of(text, 'noon')}: start_time: must be a time HH:MM, got 'noon'",
    ]


def test_csv_line_numbers_count_the_lines_of_a_quoted_cell_that_spans_several() -> None:
    text = csv_text(
        "facility_id,start_date,reason",
        '1,2027-12-24,"Christmas Eve:',
        'closed all day"',
        "1,2027-12-32,typo",
    )

    checked = check(parse_csv("exceptions.csv", text), IN_DATABASE)

    assert [row.values["reason"] for row in checked.rows] == ["Christmas Eve:\nclosed all day"]
    assert messages(checked.problems) == [
        f"exceptions.csv:{line_of(text, 'typo')}: start_date: "
        "must be a date YYYY-MM-DD, got '2027-12-32'"
    ]


def test_csv_whose_name_is_not_a_table_is_refused_naming_the_tables() -> None:
    parsed = parse_csv("export-2027.csv", csv_text("name", "Dr. Weber"))

    assert parsed.rows == []
    [problem] = messages(parsed.problems)
    assert problem.startswith("export-2027.csv:1: cannot tell the table from the file name")
    assert all(table in problem for table in TABLES)


def test_csv_row_with_more_cells_than_the_header_is_a_problem_on_its_line() -> None:
    text = csv_text("id,name", "1,Dr. Weber", "2,Dr. Lee,extra")

    parsed = parse_csv("doctors.csv", text)

    assert [row.values["name"] for row in parsed.rows] == ["Dr. Weber"]
    assert messages(parsed.problems) == [
        f"doctors.csv:{line_of(text, 'extra')}: 3 cells but the header names 2"
    ]


def test_csv_utf8_byte_order_mark_is_not_part_of_the_first_column_name() -> None:
    text = "\ufeff" + csv_text("id,name", "7,Dr. Weber")

    [row] = clean_rows(parse_csv("doctors.csv", text))

    assert row.id == 7
    assert row.values == {"name": "Dr. Weber"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("yes", True), ("no", False), ("1", True), ("0", False), ("TRUE", True), ("False", False)],
)
def test_csv_booleans_read_yes_no_and_one_zero(cell: str, expected: bool) -> None:
    text = csv_text(f"{RULE_HEADER},is_active", f"100,1,10,Mon,09:00,12:00,30,{cell}")

    [row] = clean_rows(parse_csv("rules.csv", text), IN_DATABASE)

    assert row.values["is_active"] is expected


def test_csv_boolean_that_is_neither_is_a_problem() -> None:
    text = csv_text(f"{RULE_HEADER},is_active", "100,1,10,Mon,09:00,12:00,30,maybe")

    assert problems_of(parse_csv("rules.csv", text), IN_DATABASE) == [
        "rules.csv:2: is_active: must be true or false, got 'maybe'"
    ]


def test_csv_header_problems_are_reported_on_the_header_line_and_rows_still_read() -> None:
    text = csv_text("id,name,colour,created_at", "1,Dr. Weber,blue,2027-01-01")

    parsed = parse_csv("doctors.csv", text)

    assert messages(parsed.problems) == [
        "doctors.csv:1: unknown column 'colour' in doctors: use id, name",
        "doctors.csv:1: created_at is set by the database: leave it out",
    ]
    assert [dict(row.values) for row in parsed.rows] == [{"id": "1", "name": "Dr. Weber"}]


def test_csv_that_does_not_parse_names_the_line_of_the_error() -> None:
    text = csv_text("id,name", "1,Dr. Weber", "2," + "x" * 200_000)

    parsed = parse_csv("doctors.csv", text)

    [problem] = messages(parsed.problems)
    assert problem.startswith(f"doctors.csv:{line_of(text, 'xxx')}: not valid CSV: ")


def test_csv_with_an_unterminated_quote_is_a_problem_on_the_line_it_opens() -> None:
    text = csv_text("id,name", '1,"Dr. Weber', "2,Dr. Lee", "3,Dr. Park")

    parsed = parse_csv("doctors.csv", text)

    assert parsed.problems, "the rows after the stray quote must not vanish into one cell"
    assert str(parsed.problems[0]).startswith(f"doctors.csv:{line_of(text, 'Weber')}: ")


# --------------------------------------------------------------------------------------
# parse_file and table names


def test_parse_file_chooses_the_reader_by_extension_in_any_case() -> None:
    toml = parse_file("CLINIC.TOML", '[[doctors]]\nname = "Dr. Weber"\n')
    from_json = parse_file("clinic.Json", '{"doctors": [{"name": "Dr. Weber"}]}')

    assert [row.values for row in parsed_ok(toml)] == [{"name": "Dr. Weber"}]
    assert [row.values for row in parsed_ok(from_json)] == [{"name": "Dr. Weber"}]


def test_parse_file_refuses_an_unknown_file_type() -> None:
    parsed = parse_file("clinic.yaml", "doctors:\n  - name: Dr. Weber\n")

    assert parsed.rows == []
    assert messages(parsed.problems) == [
        "clinic.yaml:1: unknown file type: use .toml, .json or .csv"
    ]


def test_short_table_names_stand_for_the_full_ones() -> None:
    assert TABLE_NAMES["rules"] == RULES
    assert TABLE_NAMES["exceptions"] == EXCEPTIONS
    assert all(TABLE_NAMES[table] == table for table in TABLES)


# --------------------------------------------------------------------------------------
# Weekdays


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("sunday", 0),
        ("Monday", 1),
        ("TUESDAY", 2),
        ("wed", 3),
        ("Thu", 4),
        ("FRI", 5),
        (" saturday ", 6),
        ("sun", 0),
    ],
)
def test_weekday_names_are_read_in_any_case_and_counted_from_sunday(
    value: str, number: int
) -> None:
    assert weekday(value) == number


@pytest.mark.parametrize("number", range(7))
def test_weekday_numbers_zero_to_six_are_accepted_as_numbers_and_as_text(number: int) -> None:
    assert weekday(number) == number
    assert weekday(str(number)) == number


def test_weekday_zero_is_sunday_in_a_rule_row() -> None:
    [rule] = clean_rows(parse_toml("clinic.toml", toml_rule(day_of_week="0")), IN_DATABASE)
    [by_name] = clean_rows(parse_toml("clinic.toml", toml_rule(day_of_week='"Sun"')), IN_DATABASE)

    assert rule.values["day_of_week"] == by_name.values["day_of_week"] == 0


@pytest.mark.parametrize("value", ["funday", "mo", "", True, 1.5])
def test_unknown_weekday_message_says_how_to_write_one(value: object) -> None:
    with pytest.raises(ValueError, match="use a name") as raised:
        weekday(value)

    assert str(raised.value) == (
        f"unknown weekday {value!r}: use a name (monday, mon) or 0 (Sunday) to 6 (Saturday)"
    )


@pytest.mark.parametrize("value", [7, -1, "7"])
def test_weekday_number_outside_zero_to_six_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"is not 0 \(Sunday\) to 6 \(Saturday\)"):
        weekday(value)


# --------------------------------------------------------------------------------------
# Meaning: times, zones, required columns


def test_end_time_before_start_time_is_reported_on_the_row() -> None:
    text = toml_rule(start_time='"12:00"', end_time='"09:00"')

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, '[[rules]]')}: end_time 09:00 is not after start_time "
        "12:00 (00:00 means the end of the day)"
    ]


def test_end_time_midnight_means_the_end_of_the_day_and_is_accepted() -> None:
    text = toml_rule(start_time='"18:00"', end_time='"00:00"')

    [rule] = clean_rows(parse_toml("clinic.toml", text), IN_DATABASE)

    assert rule.values["start_time"] == time(18)
    assert rule.values["end_time"] == time(0)


def test_unknown_time_zone_on_a_facility_is_reported_on_its_line() -> None:
    text = '[[facilities]]\nid = 1\nname = "Base"\ntimezone = "Mars/Olympus_Mons"\n'

    assert problems_of(parse_toml("clinic.toml", text)) == [
        f"clinic.toml:{line_of(text, 'Mars')}: timezone: unknown time zone "
        "'Mars/Olympus_Mons': use an IANA name such as Europe/Berlin"
    ]


@pytest.mark.parametrize("column", [c.name for c in COLUMNS[RULES] if c.required])
def test_rule_without_a_required_column_is_reported_on_the_row(column: str) -> None:
    text = "# a rule\n" + toml_rule(**{column: ""})

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, '[[rules]]')}: {column}: required, but missing"
    ]


def test_empty_name_counts_as_missing() -> None:
    text = csv_text("id,name,timezone", "1,,Europe/Berlin")

    assert problems_of(parse_csv("facilities.csv", text)) == [
        "facilities.csv:2: name: required, but missing"
    ]


# --------------------------------------------------------------------------------------
# Ids and references


def test_duplicate_id_is_reported_on_the_second_with_where_the_first_is() -> None:
    text = '[[doctors]]\nid = 10\nname = "Dr. Weber"\n\n[[doctors]]\nid = 10\nname = "Dr. Lee"\n'

    assert problems_of(parse_toml("clinic.toml", text)) == [
        f"clinic.toml:{line_of(text, 'id = 10', 2)}: duplicate id 10 in doctors "
        f"(first at clinic.toml:{line_of(text, '[[doctors]]')})"
    ]


def test_duplicate_rule_id_across_files_and_table_names_is_found() -> None:
    toml = toml_rule(id="100")
    csv = csv_text(RULE_HEADER, "100,1,10,Tue,09:00,12:00,30")
    rows = [*parsed_ok(parse_toml("clinic.toml", toml)), *parsed_ok(parse_csv("rules.csv", csv))]

    checked = check_rows(rows, IN_DATABASE)

    assert messages(checked.problems) == [
        "rules.csv:2: duplicate id 100 in availability_rules "
        f"(first at clinic.toml:{line_of(toml, '[[rules]]')})"
    ]
    assert [str(row.where) for row in checked.rows] == [f"clinic.toml:{line_of(toml, '[[rules]]')}"]


def test_same_id_in_different_tables_is_not_a_duplicate() -> None:
    text = '[[facilities]]\nid = 1\nname = "Berlin"\n\n[[doctors]]\nid = 1\nname = "Dr. Weber"\n'

    assert [row.table for row in clean_rows(parse_toml("clinic.toml", text))] == [
        "facilities",
        "doctors",
    ]


def test_references_to_rows_neither_in_the_input_nor_in_the_database_are_problems() -> None:
    text = toml_rule(facility_id="2", doctor_id="20", service_id="9")

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, 'facility_id')}: facility_id: no facilities row with id 2, "
        "neither in the input nor in the database",
        f"clinic.toml:{line_of(text, 'doctor_id')}: doctor_id: no doctors row with id 20, "
        "neither in the input nor in the database",
        f"clinic.toml:{line_of(text, 'service_id')}: service_id: no services row with id 9, "
        "neither in the input nor in the database",
    ]


def test_references_to_ids_already_in_the_database_are_fine() -> None:
    text = toml_rule(facility_id="1", doctor_id="10", service_id="5")

    [rule] = clean_rows(parse_toml("clinic.toml", text), IN_DATABASE)

    assert (rule.values["facility_id"], rule.values["doctor_id"]) == (1, 10)
    assert rule.values["service_id"] == 5


def test_a_reference_needs_the_id_in_the_referenced_table_not_in_another() -> None:
    text = toml_rule(facility_id="10", doctor_id="10")

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, 'facility_id')}: facility_id: no facilities row with id 10, "
        "neither in the input nor in the database"
    ]


def test_references_to_rows_in_another_input_file_are_fine() -> None:
    facilities = csv_text("id,name,timezone", "3,Kathmandu,Asia/Kathmandu")
    doctors = csv_text("id,name", "30,Dr. Sharma")
    rules = csv_text(RULE_HEADER, "300,3,30,Sun,10:00,14:00,20")
    rows = [
        *parsed_ok(parse_csv("rules.csv", rules)),
        *parsed_ok(parse_csv("facilities.csv", facilities)),
        *parsed_ok(parse_csv("doctors.csv", doctors)),
    ]

    checked = check_rows(rows, NOTHING_EXISTING)

    assert messages(checked.problems) == []
    assert sorted(row.table for row in checked.rows) == sorted(["facilities", "doctors", RULES])


def test_a_bad_row_still_has_its_references_checked_but_no_meaning_cascade() -> None:
    text = toml_rule(day_of_week='"funday"', doctor_id="20", start_time='"12:00"')

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, 'funday')}: day_of_week: unknown weekday 'funday': "
        "use a name (monday, mon) or 0 (Sunday) to 6 (Saturday)",
        f"clinic.toml:{line_of(text, 'doctor_id')}: doctor_id: no doctors row with id 20, "
        "neither in the input nor in the database",
    ]


def test_a_rule_of_a_bad_facility_row_is_not_blamed_for_the_facility() -> None:
    text = '[[facilities]]\nid = 2\nname = "Base"\ntimezone = "Mars/Base"\n\n' + toml_rule(
        facility_id="2"
    )

    assert problems_of(parse_toml("clinic.toml", text), IN_DATABASE) == [
        f"clinic.toml:{line_of(text, 'Mars')}: timezone: unknown time zone 'Mars/Base': "
        "use an IANA name such as Europe/Berlin"
    ]


def test_problems_of_several_rows_come_in_file_order() -> None:
    rows = [
        source_row("doctors", 3, id=1, name=7),
        source_row("doctors", 8, id="one", name="Dr. Lee"),
        source_row("doctors", 12, id=3),
    ]

    assert messages(check_rows(rows, NOTHING_EXISTING).problems) == [
        "clinic.toml:3: name: must be text, got 7",
        "clinic.toml:8: id: must be a whole number, got 'one'",
        "clinic.toml:12: name: required, but missing",
    ]


@pytest.mark.parametrize(
    ("value", "reason"), [(0, "must be 1 or more, got 0"), (-3, "must be 1 or more, got -3")]
)
def test_an_id_must_be_a_positive_whole_number(value: int, reason: str) -> None:
    checked = check_rows([source_row("doctors", 4, id=value, name="Dr. Weber")], NOTHING_EXISTING)

    assert checked.rows == []
    assert messages(checked.problems) == [f"clinic.toml:4: id: {reason}"]


# --------------------------------------------------------------------------------------
# Defaults and writing order


def test_columns_left_out_take_the_contract_defaults() -> None:
    rows = [
        source_row("facilities", 1, id=1, name="Berlin"),
        source_row("services", 2, id=5, name="Consultation"),
        rule_row(100, line=3),
        source_row(EXCEPTIONS, 4, facility_id=1, start_date="2027-12-24"),
    ]

    facility, service, rule, exception = (row.values for row in check_rows(rows, IN_DATABASE).rows)

    assert facility["timezone"] == "UTC"
    assert service["duration_minutes"] is None
    assert rule["buffer_minutes"] == 0
    assert rule["is_active"] is True
    assert rule["service_id"] is None
    assert (rule["valid_from"], rule["valid_until"]) == (None, None)
    assert exception["type"] == "blocked"
    assert exception["doctor_id"] is None
    assert exception["end_date"] is None
    assert exception["start_date"] == date(2027, 12, 24)


def test_every_clean_row_has_every_column_of_its_table() -> None:
    rows = check_rows([rule_row(100), source_row("doctors", 9, name="Dr. Lee")], IN_DATABASE).rows

    for row in rows:
        assert set(row.values) == {column.name for column in COLUMNS[row.table]}


def test_exception_with_an_unknown_type_is_refused() -> None:
    rows = [source_row(EXCEPTIONS, 6, facility_id=1, start_date="2027-12-24", type="holiday")]

    assert messages(check_rows(rows, IN_DATABASE).problems) == [
        "clinic.toml:6: unknown type 'holiday' (expected 'blocked' or 'emergency')"
    ]


def test_ordered_writes_referenced_tables_first_and_keeps_file_order_within_a_table() -> None:
    rows = [
        source_row(EXCEPTIONS, 1, facility_id=1, start_date="2027-12-24"),
        rule_row(101, line=2),
        rule_row(100, line=3, day_of_week=2),
        source_row("services", 4, id=5, name="Consultation"),
        source_row("doctors", 5, id=10, name="Dr. Weber"),
        source_row("facilities", 6, id=1, name="Berlin"),
        source_row("doctors", 7, id=11, name="Dr. Lee"),
    ]
    checked = check_rows(rows, NOTHING_EXISTING)
    assert messages(checked.problems) == []

    written = ordered(checked.rows)

    assert [(row.table, row.id) for row in written] == [
        ("facilities", 1),
        ("doctors", 10),
        ("doctors", 11),
        ("services", 5),
        (RULES, 101),
        (RULES, 100),
        (EXCEPTIONS, None),
    ]


def test_a_facilitys_holiday_country_is_upper_cased_and_checked_against_the_package() -> None:
    text = "\n".join(
        [
            '[[facilities]]\nid = 1\nname = "Munich"\nholiday_country = "de"',
            'holiday_subdivision = "BY"',
            '[[facilities]]\nid = 2\nname = "Nowhere"\nholiday_country = "XX"',
        ]
    )

    checked = check(parse_toml("clinic.toml", text))

    assert messages(checked.problems) == [
        f"clinic.toml:{line_of(text, 'XX')}: holiday_country: the holidays package has no "
        "public holidays for country 'XX'"
    ]
