"""Differences between two groups of respondents, per dimension.

Two uses in the app: the *perception gap* (top management versus the rest of the
staff in the same survey) and the *campaign change* (a later survey versus an
earlier one). Both compare independent samples: responses are anonymous, so a
respondent of the first survey cannot be paired with the same person in the second.

Missing answers are ``NaN`` and are dropped column by column, so each dimension uses
every respondent who has a score for it. A dimension with fewer than two respondents
on either side has no variance estimate; all its statistics are ``NaN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from surveyapp.scoring._distributions import t_ppf, t_sf

__all__ = [
    "Gap",
    "WelchDifference",
    "campaign_change",
    "hedges_correction",
    "holm",
    "perception_gap",
    "restrict",
    "welch_difference",
]


@dataclass(frozen=True, slots=True)
class WelchDifference:
    """Welch two-sample comparison of ``a`` against ``b``, one entry per column.

    Attributes
    ----------
    diff : ndarray of float, shape (k,)
        ``mean(a) - mean(b)``.
    ci_low, ci_high : ndarray of float, shape (k,)
        Welch–Satterthwaite confidence interval for ``diff``.
    t : ndarray of float, shape (k,)
        Welch t statistic.
    df : ndarray of float, shape (k,)
        Welch–Satterthwaite degrees of freedom (not an integer).
    p : ndarray of float, shape (k,)
        Two-sided p-value.
    hedges_g : ndarray of float, shape (k,)
        Standardised difference on the pooled SD, bias-corrected (exact Hedges J).
    n_a, n_b : ndarray of int, shape (k,)
        Non-missing observations per column in ``a`` and ``b``.
    confidence : float
        Level of the interval, for example 0.95.
    """

    diff: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    hedges_g: np.ndarray
    n_a: np.ndarray
    n_b: np.ndarray
    confidence: float


@dataclass(frozen=True, slots=True)
class Gap:
    """A :class:`WelchDifference` across dimensions plus Holm-adjusted p-values.

    The fields are those of :class:`WelchDifference` (``diff`` is the first group
    named by the producing function minus the second) and ``p_holm``, the Holm
    step-down adjustment of ``p`` across the k dimensions (``NaN`` stays ``NaN``).
    """

    diff: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    t: np.ndarray
    df: np.ndarray
    p: np.ndarray
    p_holm: np.ndarray
    hedges_g: np.ndarray
    n_a: np.ndarray
    n_b: np.ndarray
    confidence: float


def _as_matrix(values: np.ndarray, name: str) -> np.ndarray:
    """Return ``values`` as a float64 respondents × columns matrix, or raise."""
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, np.newaxis]
    if matrix.ndim != 2:
        raise ValueError(
            f"{name} must be a respondents × dimensions matrix (2-D), "
            f"got an array with {matrix.ndim} dimensions."
        )
    if np.isinf(matrix).any():
        raise ValueError(f"{name} contains an infinite value; use NaN for a missing answer.")
    return matrix


def _column_moments(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: non-missing count, mean and sample variance (ddof=1), NaN-aware."""
    present = ~np.isnan(matrix)
    n = present.sum(axis=0)
    filled = np.where(present, matrix, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = filled.sum(axis=0) / n
        centred = np.where(present, matrix - mean, 0.0)
        var = (centred * centred).sum(axis=0) / (n - 1)
    return n, mean, var


def hedges_correction(df: np.ndarray | float) -> np.ndarray:
    r"""Exact small-sample bias correction J for a standardised mean difference.

    .. math:: J(m) = \frac{\Gamma(m/2)}{\sqrt{m/2}\,\Gamma((m-1)/2)}

    with :math:`m = n_a + n_b - 2` the degrees of freedom of the pooled SD. The
    familiar approximation is :math:`J \approx 1 - 3/(4m - 1) = 1 - 3/(4N - 9)`;
    the exact form is used because top-management groups are small.

    Parameters
    ----------
    df : float or ndarray
        Degrees of freedom ``m``; values below 2 give ``NaN``.

    Returns
    -------
    ndarray of float
        J, in (0, 1).

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size
    and related estimators. *Journal of Educational Statistics*, 6(2), 107–128.
    Hedges, L. V. & Olkin, I. (1985). *Statistical Methods for Meta-Analysis*, p. 104.
    """
    m = np.asarray(df, dtype=np.float64)
    valid = m >= 2
    safe = np.where(valid, m, 2.0)
    j = np.exp(special.gammaln(safe / 2) - 0.5 * np.log(safe / 2) - special.gammaln((safe - 1) / 2))
    return np.where(valid, j, np.nan)


def welch_difference(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> WelchDifference:
    r"""Compare the column means of ``a`` and ``b`` with Welch's unequal-variance t-test.

    For each column, with :math:`\bar x_a, s_a^2, n_a` the mean, sample variance and
    number of non-missing values of ``a`` (likewise for ``b``):

    .. math::

        d = \bar x_a - \bar x_b, \qquad
        SE = \sqrt{s_a^2/n_a + s_b^2/n_b}, \qquad t = d / SE,

        \nu = \frac{SE^4}{\frac{(s_a^2/n_a)^2}{n_a-1} + \frac{(s_b^2/n_b)^2}{n_b-1}},
        \qquad p = 2\,P(T_\nu > |t|), \qquad
        d \pm t_{\nu,\,(1+c)/2}\, SE,

        g = J(n_a+n_b-2)\,\frac{d}{s_p}, \qquad
        s_p = \sqrt{\frac{(n_a-1)s_a^2 + (n_b-1)s_b^2}{n_a+n_b-2}},

    where J is the exact Hedges correction (:func:`hedges_correction`). The effect
    size uses the pooled SD, as in Cohen's d, even though the test does not assume
    equal variances.

    Parameters
    ----------
    a, b : ndarray, shape (n_a, k) and (n_b, k)
        Scores, ``NaN`` for missing. A 1-D array is read as a single column.
    confidence : float, default 0.95
        Level of the confidence interval, strictly between 0 and 1.

    Returns
    -------
    WelchDifference
        Arrays of length k. A column with fewer than two non-missing values on
        either side gives ``NaN`` everywhere but ``n_a``/``n_b``. A column where
        both groups have zero variance gives ``diff`` but ``NaN`` for the test, the
        interval and ``hedges_g`` (R's ``t.test`` stops with "data are essentially
        constant" there).

    Raises
    ------
    ValueError
        If the inputs are not 1-D/2-D, have different numbers of columns, contain
        an infinite value, or ``confidence`` is outside (0, 1).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several
    different population variances are involved. *Biometrika*, 34, 28–35.
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of
    variance components. *Biometrics Bulletin*, 2, 110–114.
    Hedges, L. V. (1981), see :func:`hedges_correction`.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}.")
    a = _as_matrix(a, "a")
    b = _as_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"a and b must have the same dimensions (columns): a has {a.shape[1]}, "
            f"b has {b.shape[1]}."
        )

    n_a, mean_a, var_a = _column_moments(a)
    n_b, mean_b, var_b = _column_moments(b)
    enough = (n_a >= 2) & (n_b >= 2)

    with np.errstate(divide="ignore", invalid="ignore"):
        diff = mean_a - mean_b
        share_a = var_a / n_a
        share_b = var_b / n_b
        se2 = share_a + share_b
        se = np.sqrt(se2)
        df = se2**2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
        t = diff / se
        testable = enough & (se2 > 0)
        safe_df = np.where(testable, df, 1.0)
        p = np.where(testable, 2.0 * t_sf(np.abs(t), safe_df), np.nan)
        half_width = t_ppf(0.5 + confidence / 2.0, safe_df) * se
        pooled_df = n_a + n_b - 2
        pooled_sd = np.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / pooled_df)
        hedges_g = hedges_correction(np.where(enough, pooled_df, 0)) * diff / pooled_sd

    def only(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    return WelchDifference(
        diff=only(enough, diff),
        ci_low=only(testable, diff - half_width),
        ci_high=only(testable, diff + half_width),
        t=only(testable, t),
        df=only(testable, df),
        p=p,
        hedges_g=only(testable, hedges_g),
        n_a=n_a.astype(np.int64),
        n_b=n_b.astype(np.int64),
        confidence=float(confidence),
    )


def holm(p: np.ndarray) -> np.ndarray:
    r"""Holm step-down adjusted p-values (family-wise error rate).

    With the m non-missing p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`:

    .. math:: \tilde p_{(i)} = \min\Bigl(1, \max_{j \le i} (m - j + 1)\, p_{(j)}\Bigr)

    This equals R's ``p.adjust(p, method = "holm")`` with ``NaN`` as ``NA``: missing
    entries stay ``NaN`` and do not count in m.

    Parameters
    ----------
    p : ndarray, shape (k,)
        Raw p-values in [0, 1], ``NaN`` for "not computed".

    Returns
    -------
    ndarray of float, shape (k,)
        Adjusted p-values in the original order.

    Raises
    ------
    ValueError
        If ``p`` is not 1-D or has a value outside [0, 1].

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    *Scandinavian Journal of Statistics*, 6, 65–70.
    """
    values = np.asarray(p, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"p must be a 1-D array of p-values, got {values.ndim} dimensions.")
    present = ~np.isnan(values)
    observed = values[present]
    if ((observed < 0) | (observed > 1)).any():
        raise ValueError("p-values must lie in [0, 1]; NaN marks a missing one.")
    adjusted = np.full(values.shape, np.nan)
    m = observed.size
    if m == 0:
        return adjusted
    order = np.argsort(observed, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * observed[order])
    result = np.empty(m)
    result[order] = np.minimum(stepped, 1.0)
    adjusted[present] = result
    return adjusted


def _with_holm(difference: WelchDifference) -> Gap:
    return Gap(
        diff=difference.diff,
        ci_low=difference.ci_low,
        ci_high=difference.ci_high,
        t=difference.t,
        df=difference.df,
        p=difference.p,
        p_holm=holm(difference.p),
        hedges_g=difference.hedges_g,
        n_a=difference.n_a,
        n_b=difference.n_b,
        confidence=difference.confidence,
    )


def perception_gap(top: np.ndarray, staff: np.ndarray, *, confidence: float = 0.95) -> Gap:
    """Top management minus staff, per dimension, with Holm across dimensions.

    ``diff = mean(top) - mean(staff)``: a positive gap means top management rates the
    organisation higher than its staff do. Statistics as in :func:`welch_difference`
    (``n_a`` counts top management, ``n_b`` staff); ``p_holm`` is :func:`holm` over
    the k dimensions.

    Parameters
    ----------
    top, staff : ndarray, shape (n_top, k) and (n_staff, k)
        Dimension scores, ``NaN`` for missing.
    confidence : float, default 0.95
        Level of the confidence interval.

    Returns
    -------
    Gap

    References
    ----------
    Welch (1947); Holm (1979); see :func:`welch_difference` and :func:`holm`.
    """
    return _with_holm(welch_difference(top, staff, confidence))


def campaign_change(before: np.ndarray, after: np.ndarray, *, confidence: float = 0.95) -> Gap:
    """Later campaign minus earlier campaign, per dimension, with Holm across dimensions.

    ``diff = mean(after) - mean(before)`` (``n_a`` counts ``after``, ``n_b``
    ``before``). The two surveys are treated as independent samples because
    anonymous responses cannot be paired; with partly the same staff this is
    conservative (the paired test would be more powerful).

    Parameters
    ----------
    before, after : ndarray, shape (n_before, k) and (n_after, k)
        Dimension scores, ``NaN`` for missing.
    confidence : float, default 0.95
        Level of the confidence interval.

    Returns
    -------
    Gap

    References
    ----------
    Welch (1947); Holm (1979); see :func:`welch_difference` and :func:`holm`.
    """
    return _with_holm(welch_difference(after, before, confidence))


def restrict(gap: Gap, shown: np.ndarray) -> Gap:
    """The gap with only the ``shown`` columns: the others blanked, Holm over the shown.

    A withheld column (a dimension whose comparison would give a small group away) must
    leave no trace: its statistics become ``NaN`` and its counts 0, and ``p_holm`` is
    recomputed with :func:`holm` over the shown columns only. The family of a multiple
    comparison is what is reported; left in, a withheld p-value would move the shown
    adjusted values and so give part of itself away.

    Parameters
    ----------
    gap : Gap
        Result of :func:`perception_gap` or :func:`campaign_change`.
    shown : ndarray of bool, shape (k,)
        Columns that may be published.

    Returns
    -------
    Gap
    """
    keep = np.asarray(shown, dtype=bool)
    if keep.shape != gap.diff.shape:
        raise ValueError(
            f"shown must have one flag per column ({gap.diff.size}), got shape {keep.shape}."
        )

    def only(values: np.ndarray) -> np.ndarray:
        return np.where(keep, values, np.nan)

    p = only(gap.p)
    return Gap(
        diff=only(gap.diff),
        ci_low=only(gap.ci_low),
        ci_high=only(gap.ci_high),
        t=only(gap.t),
        df=only(gap.df),
        p=p,
        p_holm=holm(p),
        hedges_g=only(gap.hedges_g),
        n_a=np.where(keep, gap.n_a, 0),
        n_b=np.where(keep, gap.n_b, 0),
        confidence=gap.confidence,
    )
