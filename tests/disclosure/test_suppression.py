"""Totals that reveal suppressed cells (sdc.md rule 6): exact pins, narrow intervals on and
either side of the protection width, cases only the linear program finds, rounding."""

import numpy as np
import pytest

from job_runner.disclosure.profiles import profile
from job_runner.disclosure.rules.suppression import (
    _lp_interval,
    _Program,
    check_suppressed_intervals,
    margin_keys,
    suppressed_intervals,
    table_lines,
)
from tests.disclosure.conftest import found, table_from_csv

OPENSAFELY = profile("opensafely")
SRS = profile("srs")


def check(text, rules=OPENSAFELY, description=None):
    return check_suppressed_intervals(table_from_csv(text, description), rules)


def test_a_total_minus_the_shown_cells_gives_the_suppressed_cell():
    findings = check(
        """
        school,pupils
        A,120
        B,*
        C,40
        Total,165
        """
    )
    assert found(findings) == [("suppressed_interval", "fail", 1, "pupils")]
    [finding] = findings
    assert finding.numbers["interval"] == [5, 5]
    assert (
        finding.numbers["revealed_by"]
        == "the total of pupils over school in the row school=Total (165)"
    )
    assert "exactly (5)" in finding.message
    assert finding.cell.key == {"school": "B"}


def test_a_pinned_cell_fails_under_both_profiles_whatever_its_value():
    text = """
        school,pupils
        A,120
        B,[REDACTED]
        Total,170
        """
    assert found(check(text, SRS)) == [("suppressed_interval", "fail", 1, "pupils")]
    assert check(text, SRS)[0].numbers["interval"] == [50, 50]


def test_a_table_without_totals_is_not_checked():
    assert (
        check(
            """
        school,pupils
        A,120
        B,*
        C,40
        """
        )
        == []
    )


def test_a_table_without_suppressed_cells_has_nothing_to_find():
    assert (
        check(
            """
        school,pupils
        A,120
        B,5
        Total,125
        """
        )
        == []
    )


def two_suppressed(total):
    return f"""
        school,fsm,pupils
        A,yes,*
        A,no,*
        A,Total,{total}
        B,yes,12
        B,no,40
        B,Total,52
        Total,yes,*
        Total,no,*
        Total,,{52 + total}
        """


@pytest.mark.parametrize(
    "rules, total, failing",
    [
        (OPENSAFELY, 6, True),  # interval 0 to 6: narrower than 7
        (OPENSAFELY, 7, False),  # exactly the protection width
        (OPENSAFELY, 8, False),
        (SRS, 9, True),
        (SRS, 10, False),  # exactly the protection width
        (SRS, 11, False),
    ],
)
def test_suppressed_cells_of_a_total_must_add_up_to_the_protection_width(rules, total, failing):
    findings = check(two_suppressed(total), rules)
    if failing:
        assert found(findings) == [
            ("suppressed_interval", "fail", 0, "pupils"),
            ("suppressed_interval", "fail", 1, "pupils"),
        ]
        assert findings[0].numbers["interval"] == [0, total]
        assert findings[0].numbers["protection_width"] == rules.minimum_protection_width
    else:
        assert findings == []


def test_the_protection_width_can_be_overridden():
    assert check(two_suppressed(7), profile("opensafely", protection_width=8)) != []
    assert check(two_suppressed(6), profile("opensafely", protection_width=6)) == []


def test_a_narrow_interval_above_the_small_counts_is_a_secondary_suppression_and_passes():
    # The total row's fsm cells are 12 + A's: 12 to 18 and 40 to 46, narrow but never small.
    findings = check(two_suppressed(6))
    assert {finding.cell.row for finding in findings} == {0, 1}


def nonnegativity_pins(row_x):
    """A 2 x 2 block of suppressed cells whose column b adds up to 5: only b_y >= 0 bounds
    a_x from below, so a_x lies in [row_x - 5, row_x]."""
    return f"""
        group,a,b,Total
        x,*,*,{row_x}
        y,*,*,{55 + 5 - row_x}
        Total,55,5,60
        """


def test_an_interval_that_may_hold_a_small_count_fails_even_if_it_reaches_above():
    findings = check(nonnegativity_pins(12))
    cells = {(finding.cell.row, finding.cell.column): finding for finding in findings}
    assert cells[(0, "a")].numbers["interval"] == [7, 12]  # may be 7: small under opensafely
    assert "together" in cells[(0, "a")].message  # no single total gives it
    assert "revealed_by" not in cells[(0, "a")].numbers
    assert (1, "a") not in cells  # 43 to 48: never small


def test_an_interval_starting_above_the_small_counts_passes_under_opensafely_not_srs():
    # a_x in [8, 13]: 8 is not small under opensafely (7 or fewer), but is under srs (below 10).
    assert (0, "a") not in {(f.cell.row, f.cell.column) for f in check(nonnegativity_pins(13))}
    srs = check(nonnegativity_pins(13), SRS)
    assert ("suppressed_interval", "fail", 0, "a") in found(srs)


def test_cells_that_pin_each_other_are_found_by_the_linear_program():
    # Every line has two unknown cells, so no total minus its shown cells gives any of them;
    # but the grand total is the sum of the shown row totals (100), so the suppressed b total
    # is 0, b_x and b_y are 0 and a_x, a_y follow.
    findings = check(
        """
        group,a,b,c,Total
        x,*,*,20,25
        y,*,*,30,75
        Total,50,*,50,*
        """
    )
    cells = {(f.cell.row, f.cell.column): f.numbers["interval"] for f in findings}
    assert cells == {
        (0, "a"): [5, 5],
        (1, "a"): [45, 45],
        (0, "b"): [0, 0],
        (1, "b"): [0, 0],
        (2, "b"): [0, 0],
        (2, "Total"): [100, 100],
    }
    a_x = next(f for f in findings if (f.cell.row, f.cell.column) == (0, "a"))
    assert "revealed_by" not in a_x.numbers


def test_the_same_block_with_a_shown_grand_total_that_leaves_room_passes():
    # a_x + b_x = 15, a_y + b_y = 45, a_x + a_y = 30, b_x + b_y = 30: one degree of freedom,
    # a_x anywhere in 0..15.
    assert (
        check(
            """
        group,a,b,c,Total
        x,*,*,20,35
        y,*,*,30,75
        Total,30,30,50,110
        """
        )
        == []
    )


def test_a_total_column_reveals_a_cell_of_its_row():
    findings = check(
        """
        school,boys,girls,Total
        A,*,30,35
        B,40,41,81
        """
    )
    assert found(findings) == [("suppressed_interval", "fail", 0, "boys")]
    assert findings[0].numbers["interval"] == [5, 5]
    assert "Total column" in findings[0].numbers["revealed_by"]


def test_a_total_recomputed_from_the_shown_cells_reveals_nothing():
    # As controls.recompute_totals writes it: the redacted cell adds nothing.
    assert (
        check(
            """
        school,pupils
        A,120
        B,*
        C,40
        Total,160
        """
        )
        == []
    )


def test_a_total_smaller_than_its_shown_cells_is_not_their_sum_and_is_not_used():
    assert (
        check(
            """
        school,pupils
        A,120
        B,*
        C,40
        Total,150
        """
        )
        == []
    )


def test_a_total_of_only_suppressed_cells_pins_them_all_at_zero():
    findings = check(
        """
        school,pupils
        A,*
        B,*
        Total,0
        """
    )
    assert [finding.numbers["interval"] for finding in findings] == [[0, 0], [0, 0]]


def test_rounding_widens_the_interval_so_a_single_suppressed_cell_is_protected():
    text = """
        school,pupils
        A,120
        B,*
        C,40
        Total,165
        """
    assert found(check(text)) == [("suppressed_interval", "fail", 1, "pupils")]
    assert check(text, description={"rounding": 5}) == []


@pytest.mark.parametrize(
    "rules, failing",
    [(OPENSAFELY, False), (profile("srs", rounding="base", base=5), True)],
)
def test_rounded_to_5_one_shown_cell_leaves_1_to_9(rules, failing):
    # 120 stands for 118 to 122, 125 for 123 to 127: B is 1 to 9, 8 wide; opensafely needs 7,
    # srs 10.
    findings = check(
        """
        school,pupils
        A,120
        B,*
        Total,125
        """,
        rules,
        {"rounding": 5},
    )
    assert bool(findings) is failing
    if failing:
        assert findings[0].numbers["interval"] == [1, 9]


def test_rounded_to_10_a_shown_value_stands_for_five_below_to_four_above():
    findings = check(
        """
        school,pupils
        A,120
        B,*
        Total,130
        """,
        SRS,
        {"rounding": 10},
    )
    assert findings == []  # B is 125 - 124 = 1 to 134 - 115 = 19


def test_rounded_total_with_the_interval_exactly_the_protection_width_passes():
    # To 5, a suppressed cell with shown parts 120 and 40 under total 165: 0 to 11; under a
    # protection width of 11 it passes, of 12 it fails.
    text = """
        school,pupils
        A,120
        B,*
        C,40
        Total,165
        """
    assert check(text, profile("opensafely", protection_width=11), {"rounding": 5}) == []
    findings = check(text, profile("opensafely", protection_width=12), {"rounding": 5})
    assert findings[0].numbers["interval"] == [0, 11]


def test_midpoint6_columns_use_their_band():
    # 99 stands for 97 to 102 and 105 for 103 to 108: B is 1 to 11.
    assert (
        check(
            """
        school,pupils_midpoint6
        A,99
        B,*
        Total,105
        """
        )
        == []
    )
    findings = check(
        """
        school,pupils_midpoint6
        A,99
        B,*
        Total,105
        """,
        profile("opensafely", protection_width=11),
    )
    assert findings[0].numbers["interval"] == [1, 11]


def test_lines_of_a_long_table_are_within_the_groups_of_the_other_dimensions():
    table = table_from_csv(two_suppressed(6))
    lines = {(line.total, line.parts) for line in table_lines(table)}
    assert ((2, "pupils"), ((0, "pupils"), (1, "pupils"))) in lines  # A: yes + no
    assert ((8, "pupils"), ((2, "pupils"), (5, "pupils"))) in lines  # grand total over schools
    assert ((8, "pupils"), ((6, "pupils"), (7, "pupils"))) in lines  # grand total over fsm
    assert ((6, "pupils"), ((0, "pupils"), (3, "pupils"))) in lines  # yes over schools
    assert len(lines) == 6


def test_a_blank_dimension_in_a_total_row_is_a_total():
    table = table_from_csv(two_suppressed(6))
    assert margin_keys(table)[8] == (None, None)
    assert margin_keys(table)[0] == ("A", "yes")


def test_only_the_suppressed_cells_component_is_solved():
    # Two independent blocks: the shown one reveals nothing about the other.
    findings = check(
        """
        school,fsm,pupils
        A,yes,*
        A,no,40
        A,Total,45
        B,yes,*
        B,no,*
        B,Total,30
        """
    )
    assert found(findings) == [("suppressed_interval", "fail", 0, "pupils")]


def test_a_fractional_linear_bound_is_solved_again_in_whole_numbers():
    # x + y + s = 1, y + z = 1, z + x = 1: as real numbers x reaches 0.5 (s = 0); in whole
    # numbers s must be 1 and x is 0.
    program = _Program(
        variables=[(0, "x"), (0, "y"), (0, "z"), (0, "s")],
        matrix=np.array([[1.0, 1, 0, 1], [0, 1, 1, 0], [1, 0, 1, 0]]),
        rhs=np.array([1.0, 1, 1]),
        low=np.zeros(4),
        high=np.full(4, np.inf),
        integral=True,
    )
    assert _lp_interval(program, 0) == (0, 0)
    program.integral = False
    assert _lp_interval(program, 0) == pytest.approx((0, 0.5))


def brute_force_intervals(body, hidden, row_totals, column_totals, grand):
    """Every whole-number filling of the hidden cells (0 to the grand total) that keeps the
    shown totals: each hidden cell's least and greatest value."""
    import itertools

    cells = sorted(hidden)
    ranges = [range(0, grand + 1)] * len(cells)
    seen = {cell: [] for cell in cells}
    for filling in itertools.product(*ranges):
        trial = [row[:] for row in body]
        for (row, column), value in zip(cells, filling, strict=True):
            trial[row][column] = value
        if [sum(row) for row in trial] != row_totals:
            continue
        if [sum(column) for column in zip(*trial, strict=True)] != column_totals:
            continue
        for cell, value in zip(cells, filling, strict=True):
            seen[cell].append(value)
    return {cell: [min(values), max(values)] for cell, values in seen.items()}


@pytest.mark.parametrize("seed", range(12))
def test_intervals_match_brute_force_on_small_crosstabs(seed):
    """The LP's intervals are exactly those of every whole-number filling; a cell skipped as
    passing is indeed at least the protection width wide."""
    rng = np.random.default_rng(seed)
    body = rng.integers(0, 6, size=(3, 3)).tolist()
    hidden = {(int(row), int(column)) for row, column in rng.integers(0, 3, size=(3, 2))}
    for row, column in hidden:  # a suppressed 0 would make its totals look recomputed
        body[row][column] = max(body[row][column], 1)
    row_totals = [sum(row) for row in body]
    column_totals = [sum(column) for column in zip(*body, strict=True)]
    grand = sum(row_totals)
    lines = ["group,a,b,c,Total"]
    for number, row in enumerate(body):
        shown = [
            "*" if (number, column) in hidden else str(value) for column, value in enumerate(row)
        ]
        lines.append(f"{'xyz'[number]},{','.join(shown)},{row_totals[number]}")
    lines.append(f"Total,{','.join(map(str, column_totals))},{grand}")
    table = table_from_csv("\n".join(lines))
    expected = brute_force_intervals(body, hidden, row_totals, column_totals, grand)
    columns = ["a", "b", "c"]
    for rules in (None, OPENSAFELY, SRS):
        intervals = suppressed_intervals(table, table_lines(table), rules)
        for (row, column), interval in expected.items():
            found_interval = intervals[(row, columns[column])]
            if found_interval.complete:
                assert [found_interval.low, found_interval.high] == interval
            else:  # shown to pass: not pinned, and wide enough or never small
                low, high = interval
                assert high > low
                assert (
                    high - low >= rules.minimum_protection_width
                    or low > rules.smallest_safe_count - 1
                )


def test_cells_skipped_as_passing_do_pass_by_the_full_linear_programs():
    skipped = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        body = rng.integers(1, 40, size=(4, 4))
        hidden = {(int(row), int(column)) for row, column in rng.integers(0, 4, size=(6, 2))}
        lines = ["group,a,b,c,d,Total"]
        for number, row in enumerate(body):
            shown = [
                "*" if (number, column) in hidden else str(value)
                for column, value in enumerate(row)
            ]
            lines.append(f"{'wxyz'[number]},{','.join(shown)},{row.sum()}")
        lines.append(f"Total,{','.join(map(str, body.sum(axis=0)))},{body.sum()}")
        table = table_from_csv("\n".join(lines))
        full = suppressed_intervals(table, table_lines(table))
        for rules in (OPENSAFELY, SRS):
            quick = suppressed_intervals(table, table_lines(table), rules)
            assert quick.keys() == full.keys()
            for cell, interval in quick.items():
                exact = full[cell]
                if interval.complete:
                    assert (interval.low, interval.high) == (exact.low, exact.high)
                    continue
                skipped += 1
                assert exact.width > 0
                assert (
                    exact.width >= rules.minimum_protection_width
                    or exact.low > rules.smallest_safe_count - 1
                )
    assert skipped > 0
