"""A job's parameters are checked when they are made, from the command line or a stored row.

Bad parameters must fail before a run is recorded (the CLI makes them before it opens a
run) and a stored row must read back into exactly what was stored, so a retry runs what
the failed run was asked to do.
"""

import re
from typing import Any

import pytest

from slotgen.errors import BadInput
from slotgen.services.params import GenerateParams, HolidaysParams, ReleaseParams
from slotgen.services.retry import WORK_FROM_PARAMS
from slotgen.vocabulary import Job


@pytest.mark.parametrize(
    "params",
    [
        GenerateParams(),
        GenerateParams((1, 2), (7,), "today", None, 30),
        GenerateParams(start_date="2027-03-01", end_date="2027-03-31"),
        GenerateParams(start_date="+7d", end_date="+2w"),
    ],
)
def test_generate_params_read_back_from_their_json(params: GenerateParams) -> None:
    assert GenerateParams.from_json(params.to_json()) == params


def test_release_params_read_back_from_their_json() -> None:
    assert ReleaseParams.from_json(ReleaseParams(17).to_json()) == ReleaseParams(17)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"days": 367}, "--days 367: a range may span at most 366 days"),
        ({"days": -1}, "--days must be a whole number of 0 or more"),
        ({"end_date": "+1d", "days": 1}, "give --end-date or --days, not both"),
        ({"start_date": "2027-01-01", "end_date": "2028-01-03"}, "is 367 days"),
        ({"start_date": "+1d", "end_date": "-1d"}, "--end-date -1d is before --start-date +1d"),
        ({"start_date": "tomorow"}, "--start-date: bad date 'tomorow'"),
        ({"facility_ids": [0]}, "facility_ids must be a list of positive ids"),
        ({"doctor_ids": "3"}, "doctor_ids must be a list of positive ids"),
    ],
)
def test_bad_generate_params_are_bad_input(values: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        GenerateParams.from_json(values)


def test_a_range_of_exactly_366_days_is_allowed() -> None:
    assert GenerateParams(start_date="2028-01-01", end_date="2029-01-01").end_date == "2029-01-01"
    assert GenerateParams(days=366).days == 366


def test_absolute_and_relative_ends_are_left_to_each_facilitys_today() -> None:
    """Their distance depends on today in each zone: the run checks it, not the params."""
    params = GenerateParams(start_date="2020-01-01", end_date="+3d")
    assert params.start is not None
    assert params.start.absolute is not None
    assert params.end is not None
    assert params.end.offset_days == 3


def test_a_stored_dry_run_flag_of_older_versions_is_ignored_but_unknown_keys_are_not() -> None:
    assert GenerateParams.from_json({"days": 3, "dry_run": False}) == GenerateParams(days=3)
    with pytest.raises(BadInput, match="unknown GenerateParams parameter"):
        GenerateParams.from_json({"days": 3, "colour": "red"})


@pytest.mark.parametrize("size", [0, -5, True, "50"])
def test_a_release_batch_must_be_a_positive_whole_number(size: Any) -> None:
    with pytest.raises(BadInput, match="--batch-size"):
        ReleaseParams(size)


def test_every_job_can_be_rebuilt_for_a_retry() -> None:
    assert set(WORK_FROM_PARAMS) == set(Job) - {Job.IMPORT}  # an import is not on record
    generate = WORK_FROM_PARAMS[Job.GENERATE]({"days": 5, "facility_ids": [3]})
    assert generate.params == GenerateParams(facility_ids=(3,), days=5)
    assert WORK_FROM_PARAMS[Job.RELEASE]({}).params == ReleaseParams()


@pytest.mark.parametrize(
    "params",
    [HolidaysParams(), HolidaysParams((2,), (2028, 2027)), HolidaysParams(ahead="400d")],
)
def test_holidays_params_read_back_from_their_json(params: HolidaysParams) -> None:
    assert HolidaysParams.from_json(params.to_json()) == params
    assert WORK_FROM_PARAMS[Job.HOLIDAYS](params.to_json()).params == params


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"years": (2027,), "ahead": "30d"}, "not both"),
        ({"years": (1066,)}, "--years 1066"),
        ({"ahead": "2y"}, "--ahead '2y'"),
        ({"ahead": "1101d"}, "at most 1100 days"),
    ],
)
def test_bad_holidays_params_are_bad_input(values: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        HolidaysParams(**values)


def test_ahead_reads_days_and_weeks() -> None:
    assert HolidaysParams(ahead="8w").ahead_days == 56
    assert HolidaysParams(ahead="400").ahead_days == 400
    assert HolidaysParams(years=(2028, 2027, 2028)).years == (2027, 2028)
