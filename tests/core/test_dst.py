"""The DST policy of slotgen.core.plan, one named night per edge, checked on real zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotgen.core.dates import local_instant
from tests.core.support import closure, local_starts, plan, rule, utc, window

SUNDAY = 0


def test_zoneinfo_reads_a_gap_time_after_the_gap_and_a_repeated_time_first() -> None:
    new_york = ZoneInfo("America/New_York")
    assert local_instant(date(2026, 3, 8), time(2, 30), new_york) == utc(2026, 3, 8, 7, 30)
    assert local_instant(date(2026, 11, 1), time(1, 30), new_york) == utc(2026, 11, 1, 5, 30)
    assert local_instant(date(2026, 11, 1), time(1, 30, fold=1), new_york) == utc(
        2026, 11, 1, 5, 30
    ), "a stray fold=1 must not pick the second occurrence"


def test_new_york_spring_forward_night_offers_two_real_hours() -> None:
    result = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), zone="America/New_York")],
        windows={1: window("America/New_York", date(2026, 3, 8))},
    )
    assert local_starts(result.inserts, "America/New_York") == [
        "01:00-0500",
        "01:30-0500",
        "03:00-0400",
        "03:30-0400",
    ]
    assert result.inserts[-1].end_at == utc(2026, 3, 8, 8)


def test_new_york_fall_back_night_offers_four_real_hours_without_repeating_an_instant() -> None:
    result = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), zone="America/New_York")],
        windows={1: window("America/New_York", date(2026, 11, 1))},
    )
    assert local_starts(result.inserts, "America/New_York") == [
        "01:00-0400",
        "01:30-0400",
        "01:00-0500",
        "01:30-0500",
        "02:00-0500",
        "02:30-0500",
        "03:00-0500",
        "03:30-0500",
    ]
    assert len({s.start_at for s in result.inserts}) == 8


def test_new_york_working_day_on_transition_days_keeps_local_hours() -> None:
    for day in (date(2026, 3, 8), date(2026, 11, 1)):
        result = plan(
            [rule(day_of_week=SUNDAY, zone="America/New_York")],
            windows={1: window("America/New_York", day)},
        )
        starts = local_starts(result.inserts, "America/New_York")
        assert len(starts) == 16
        assert starts[0].startswith("09:00")
        assert starts[-1].startswith("16:30")


def test_berlin_spring_forward_and_fall_back_nights() -> None:
    spring = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), duration=60, zone="Europe/Berlin")],
        windows={1: window("Europe/Berlin", date(2026, 3, 29))},
    )
    assert local_starts(spring.inserts, "Europe/Berlin") == ["01:00+0100", "03:00+0200"]
    autumn = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), duration=60, zone="Europe/Berlin")],
        windows={1: window("Europe/Berlin", date(2026, 10, 25))},
    )
    assert local_starts(autumn.inserts, "Europe/Berlin") == [
        "01:00+0200",
        "02:00+0200",
        "02:00+0100",
        "03:00+0100",
    ]


def test_berlin_working_day_after_spring_forward_starts_at_local_nine() -> None:
    result = plan(
        [rule(day_of_week=SUNDAY, zone="Europe/Berlin")],
        windows={1: window("Europe/Berlin", date(2026, 3, 29))},
    )
    assert result.inserts[0].start_at == utc(2026, 3, 29, 7)
    assert result.inserts[-1].end_at == utc(2026, 3, 29, 15)
    assert len(result.inserts) == 16


def test_window_starting_inside_the_gap_starts_after_it() -> None:
    result = plan(
        [rule(day_of_week=SUNDAY, start=time(2), end=time(4), zone="America/New_York")],
        windows={1: window("America/New_York", date(2026, 3, 8))},
    )
    # 02:00 does not exist: the window opens at 03:00 EDT and really lasts one hour.
    assert local_starts(result.inserts, "America/New_York") == ["03:00-0400", "03:30-0400"]


def test_window_entirely_inside_the_gap_offers_nothing_or_its_shifted_length() -> None:
    inside = plan(
        [rule(day_of_week=SUNDAY, start=time(2, 15), end=time(2, 45), zone="America/New_York")],
        windows={1: window("America/New_York", date(2026, 3, 8))},
    )
    # Both ends shift by the same hour, so the half hour survives, an hour later.
    assert local_starts(inside.inserts, "America/New_York") == ["03:15-0400"]
    across = plan(
        [rule(day_of_week=SUNDAY, start=time(2, 30), end=time(3, 30), zone="America/New_York")],
        windows={1: window("America/New_York", date(2026, 3, 8))},
    )
    # 02:30 reads as 03:30 EDT, the same instant as the end: no time at all.
    assert across.inserts == []


def test_lord_howe_half_hour_shifts() -> None:
    zone = "Australia/Lord_Howe"
    autumn = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), zone=zone)],
        windows={1: window(zone, date(2026, 4, 5))},
    )
    assert len(autumn.inserts) == 7  # 3.5 real hours
    assert local_starts(autumn.inserts, zone)[:4] == [
        "01:00+1100",
        "01:30+1100",
        "01:30+1030",
        "02:00+1030",
    ]
    spring = plan(
        [rule(day_of_week=SUNDAY, start=time(1), end=time(4), zone=zone)],
        windows={1: window(zone, date(2026, 10, 4))},
    )
    assert local_starts(spring.inserts, zone) == [
        "01:00+1030",
        "01:30+1030",
        "02:30+1100",
        "03:00+1100",
        "03:30+1100",
    ]


def test_kathmandu_quarter_hour_offset() -> None:
    result = plan(
        [rule(start=time(9), end=time(10), duration=15, zone="Asia/Kathmandu")],
        windows={1: window("Asia/Kathmandu", date(2026, 3, 2))},
    )
    assert [s.start_at for s in result.inserts] == [
        utc(2026, 3, 2, 3, 15),
        utc(2026, 3, 2, 3, 30),
        utc(2026, 3, 2, 3, 45),
        utc(2026, 3, 2, 4, 0),
    ]


def test_santiago_day_without_midnight_and_whole_day_exceptions() -> None:
    zone = ZoneInfo("America/Santiago")
    sunday = date(2026, 9, 6)
    midnight = datetime.combine(sunday, time(0), zone)
    assert midnight.astimezone(UTC).astimezone(zone).time() == time(1), "00:00 is skipped"

    saturday_evening = rule(1, day_of_week=6, start=time(22), end=time(0), zone=zone.key)
    sunday_night = rule(2, day_of_week=SUNDAY, start=time(0), end=time(3), zone=zone.key)
    windows = {1: window(zone.key, sunday - timedelta(days=1), sunday)}

    open_days = plan([saturday_evening, sunday_night], windows=windows)
    assert local_starts(open_days.inserts, zone.key) == [
        "22:00-0400",
        "22:30-0400",
        "23:00-0400",
        "23:30-0400",
        "01:00-0300",  # Sunday opens at 00:00, which reads as 01:00
        "01:30-0300",
        "02:00-0300",
        "02:30-0300",
    ]

    sunday_closed = plan(
        [saturday_evening, sunday_night],
        [closure(start_date=sunday, zone=zone.key)],
        windows=windows,
    )
    assert [s.rule_id for s in sunday_closed.inserts] == [1, 1, 1, 1]
    assert sunday_closed.blocked_by_type == {"blocked": 4}

    saturday_closed = plan(
        [saturday_evening, sunday_night],
        [closure(start_date=sunday - timedelta(days=1), zone=zone.key)],
        windows=windows,
    )
    assert [s.rule_id for s in saturday_closed.inserts] == [2, 2, 2, 2]


def test_cairo_friday_without_midnight_opens_at_one() -> None:
    result = plan(
        [rule(day_of_week=5, start=time(0), end=time(2), duration=60, zone="Africa/Cairo")],
        windows={1: window("Africa/Cairo", date(2024, 4, 26))},
    )
    assert local_starts(result.inserts, "Africa/Cairo") == ["01:00+0300"]
