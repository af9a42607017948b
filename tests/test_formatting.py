"""Figures print one way everywhere: numbers, differences, shares, p-values and dates."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from flask import render_template_string

from surveyapp.pdf import print_environment
from surveyapp.reporting.formatting import (
    MINUS,
    format_date,
    format_number,
    format_p,
    format_percent,
    format_signed,
)


def test_dutch_uses_a_decimal_comma():
    assert format_number(3.14159, 2, "nl") == "3,14"
    assert format_number(3.14159, 2, "en") == "3.14"
    assert format_percent(0.187, "nl", 1) == "18,7%"


def test_negative_figures_get_a_true_minus_sign():
    assert format_number(-0.25) == MINUS + "0.25"
    assert format_signed(-0.25, lang="nl") == "\u22120,25"
    assert "-" not in format_number(-12.5, 1)


def test_differences_carry_a_plus_but_zero_carries_no_sign():
    assert format_signed(0.25) == "+0.25"
    assert format_signed(0.001) == "0.00"
    assert format_signed(-0.004) == "0.00"  # never "−0.00"
    assert format_number(-0.0) == "0.00"


def test_ties_round_half_up_on_the_decimal_a_reader_sees():
    # 107/40 = 2.675 exactly; the double lies just below it, so round() gives 2.67.
    assert round(107 / 40, 2) == 2.67
    assert format_number(107 / 40) == "2.68"
    assert format_number(-107 / 40) == MINUS + "2.68"  # away from zero: symmetric
    # Python rounds ties to even; a report (and a spreadsheet's ROUND) rounds them up.
    assert round(2.5) == 2
    assert format_number(2.5, 0) == "3"
    assert format_number(0.125, 2) == "0.13"


def test_percentages_round_half_up_on_the_share_times_a_hundred():
    assert format_percent(1 / 8) == "13%"  # 12.5 %
    assert format_percent(0.145) == "15%"  # 0.145 * 100 is 14.499999999999998 as a float
    assert format_percent(0.187, "nl") == "19%"
    assert format_percent(1.0) == "100%"


@pytest.mark.parametrize("digits", [0, 1, 2, 3])
def test_every_fraction_rounds_as_its_decimal_would(digits):
    """The fast path (the float's own formatting) agrees with decimal rounding everywhere."""
    quantum = Decimal(1).scaleb(-digits)
    for n in range(1, 101):
        for k in range(-3 * n, 5 * n + 1):
            value = k / n
            exact = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
            expected = f"{abs(exact):f}"
            if exact < 0:
                expected = MINUS + expected
            assert format_number(value, digits) == expected, f"{k}/{n} at {digits} digits"


@pytest.mark.parametrize("digits", [0, 1])
def test_every_share_rounds_as_its_decimal_would(digits):
    quantum = Decimal(1).scaleb(-digits)
    for n in range(1, 301):
        for k in range(n + 1):
            share = k / n
            exact = Decimal(repr(share)).scaleb(2).quantize(quantum, rounding=ROUND_HALF_UP)
            assert format_percent(share, digits=digits) == f"{exact:f}%", f"{k}/{n}"


def test_very_small_and_large_numbers_print_without_an_exponent():
    assert format_number(1e-7, 3) == "0.000"
    assert format_number(2.5e-5, 4) == "0.0000"
    assert format_number(1.5e16, 0) == "15000000000000000"


def test_p_values_name_the_letter_and_stop_at_one_in_a_thousand():
    assert format_p(0.0126) == "p = 0.013"
    assert format_p(0.001) == "p = 0.001"
    assert format_p(0.00099) == "p < 0.001"
    assert format_p(1e-12, "nl") == "p < 0,001"
    assert format_p(0.5, "nl") == "p = 0,500"


@pytest.mark.parametrize("missing", [None, float("nan"), float("inf"), "n/a", np.float32("nan")])
def test_missing_figures_print_an_en_dash(missing):
    assert format_number(missing) == "–"
    assert format_signed(missing) == "–"
    assert format_percent(missing) == "–"
    assert format_p(missing) == "–"


def test_numpy_numbers_print_like_floats():
    assert format_number(np.float64(2.675)) == "2.68"
    assert format_number(np.float32(0.25), 2, "nl") == "0,25"
    assert format_number(np.int64(3), 1) == "3.0"


def test_dates_put_the_day_first_in_both_languages():
    day = dt.date(2026, 12, 1)
    assert format_date(day, "en") == "1 December 2026"
    assert format_date(day, "nl") == "1 december 2026"
    assert format_date("2026-03-09", "nl") == "9 maart 2026"
    assert format_date(dt.datetime(2026, 12, 1, 23, 30), "en") == "1 December 2026"
    assert format_date(None) == ""
    assert format_date("") == ""


TEMPLATE = (
    "{{ p|pvalue }} | {{ x|num }} | {{ x|num(1, signed=True) }} | {{ x|signed }} | "
    "{{ s|pct }} | {{ d|date }}"
)
VALUES = {"p": 0.0004, "x": -0.125, "s": 0.125, "d": "2026-12-01"}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_page_and_pdf_print_the_same(app, lang):
    from flask_babel import force_locale

    with app.test_request_context(f"/?lang={lang}"):
        page = render_template_string(TEMPLATE, **VALUES)
    # The PDF: the same environment outside a request (as in ``surveyapp report``), with
    # the report's language forced.
    with app.app_context(), force_locale(lang):
        printed = print_environment().from_string(TEMPLATE).render(**VALUES)
    assert page == printed
    comma = "," if lang == "nl" else "."
    month = "december" if lang == "nl" else "December"
    assert page == (
        f"p &lt; 0{comma}001 | −0{comma}13 | −0{comma}1 | −0{comma}13 | 13% | 1 {month} 2026"
    )
