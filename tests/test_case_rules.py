"""Pure rules of the case service: case numbers, the state machine, working-day deadlines."""

import itertools
import random
from datetime import date

import pytest

from api import deadlines
from api.case_numbers import check_digit, is_valid, new_case_number, parse_case_number
from api.lifecycle import TRANSITIONS, IllegalTransition, State, check_transition


def test_case_numbers_are_eight_digits_valid_and_spread():
    numbers = {new_case_number() for _ in range(20000)}
    assert len(numbers) > 19900  # random draws from 9 million; the database refuses repeats
    assert all(len(n) == 8 and n[0] != "0" and is_valid(n) for n in numbers)
    first_digits = {n[0] for n in numbers}
    assert first_digits == set("123456789")


def test_check_digit_catches_every_single_error_and_neighbour_swap():
    rng = random.Random(7)
    for _ in range(300):
        number = new_case_number()
        for pos in range(8):
            for digit in "0123456789":
                if digit != number[pos]:
                    typo = number[:pos] + digit + number[pos + 1 :]
                    assert not is_valid(typo)
        for pos in range(7):
            a, b = number[pos], number[pos + 1]
            if a != b:
                assert not is_valid(number[:pos] + b + a + number[pos + 2 :])
    assert check_digit(str(rng.randrange(10**6, 10**7))) in "0123456789"


def test_case_numbers_as_residents_say_them():
    number = new_case_number()
    spoken = "".join("零幺二三四五六七八九"[int(d)] for d in number)
    assert parse_case_number(spoken) == number
    assert parse_case_number(f"{number[:4]} {number[4:]}") == number
    assert parse_case_number(f"{number[:4]}-{number[4:]}") == number
    assert parse_case_number("１２３") is None
    assert parse_case_number("abcdefgh") is None


def test_state_machine_allows_the_documented_path_and_refuses_the_rest():
    path = [State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS, State.DONE, State.RATED]
    for a, b in itertools.pairwise(path):
        assert check_transition(a, b) == b
    with pytest.raises(IllegalTransition, match="不能变更"):
        check_transition(State.ACCEPTED, State.DONE)
    with pytest.raises(IllegalTransition):
        check_transition(State.RATED, State.IN_PROGRESS)
    assert check_transition(State.DONE, State.REOPENED) == State.REOPENED
    reachable = {State.ACCEPTED}
    frontier = [State.ACCEPTED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(State)


def test_deadlines_follow_chinas_official_calendar():
    # 2025: National Day + Mid-Autumn holiday Oct 1-8, make-up workdays Sun Sep 28 and Sat Oct 11.
    assert deadlines.is_workday(date(2025, 9, 28))
    assert not deadlines.is_workday(date(2025, 10, 3))
    assert deadlines.is_workday(date(2025, 10, 11))
    assert deadlines.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    # Spring Festival 2025: Jan 28 - Feb 4 off, Sat Feb 8 a workday.
    assert deadlines.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert deadlines.working_days_between(date(2025, 2, 5), date(2025, 2, 10)) == 4
    assert deadlines.add_working_days(date(2025, 6, 6), 10) == date(2025, 6, 20)


def test_years_without_official_data_fall_back_and_can_be_overridden(tmp_path):
    plain = deadlines.WorkCalendar(tmp_path / "absent.yml")
    assert not plain.is_workday(date(2027, 1, 1))  # New Year's Day, fixed date
    assert not plain.is_workday(date(2027, 1, 9))  # a Saturday
    assert plain.is_workday(date(2027, 1, 4))
    override = tmp_path / "holidays.yml"
    override.write_text("holidays: [2027-01-04]\nworkdays: [2027-01-09]\n", encoding="utf-8")
    office = deadlines.WorkCalendar(override)
    assert not office.is_workday(date(2027, 1, 4))
    assert office.is_workday(date(2027, 1, 9))
    assert office.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 5)
