"""Within-group agreement and reliability of group means.

Do the staff of a department answer alike (rwg, rwg(j)), how much of the variance lies
between departments (ICC(1)), how reliable is a department's mean (ICC(2), Spearman-Brown),
and how far should a small department's mean be pulled towards the organisation's before
ranking (empirical Bayes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Icc",
    "expected_uniform_variance",
    "group_mean_reliability",
    "icc_oneway",
    "rwg",
    "rwg_j",
    "shrunken_means",
]


def expected_uniform_variance(n_points: int) -> float:
    """Variance of the uniform ("random response") null on ``A`` points: (A^2 - 1) / 12.

    References
    ----------
    James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. *Journal of Applied Psychology*, 69,
    85-98.
    """
    if n_points < 2:
        raise ValueError(f"An agreement null needs at least 2 scale points; got {n_points}.")
    return (n_points * n_points - 1) / 12.0


def rwg(variance: ArrayLike, *, n_points: int) -> NDArray[np.float64]:
    """Single-item within-group agreement rwg, truncated to [0, 1].

    Parameters
    ----------
    variance : array_like
        Observed within-group variance of the item (denominator n - 1); NaN for groups
        with fewer than two answers.
    n_points : int
        Number of scale points ``A``.

    Returns
    -------
    ndarray
        :math:`r_{wg} = 1 - s^2 / \\sigma^2_{EU}`, :math:`\\sigma^2_{EU} = (A^2-1)/12`
        (James, Demaree & Wolf 1984). When :math:`s^2 > \\sigma^2_{EU}` (more disagreement
        than random responding) the value is set to 0, following James et al. (1984) and
        LeBreton & Senter (2008, Question 9): agreement is then treated as absent rather
        than reported as a negative, uninterpretable number. NaN stays NaN.

    References
    ----------
    James, L. R., Demaree, R. G., & Wolf, G. (1984). *J. Appl. Psychol.*, 69, 85-98.
    LeBreton, J. M., & Senter, J. L. (2008). Answers to 20 questions about interrater
    reliability and interrater agreement. *Organizational Research Methods*, 11, 815-852.
    """
    s2 = np.asarray(variance, dtype=np.float64)
    sigma2 = expected_uniform_variance(n_points)
    value = 1.0 - s2 / sigma2
    return np.where(s2 > sigma2, 0.0, value)


def rwg_j(item_variances: ArrayLike, *, n_points: int) -> NDArray[np.float64]:
    """Multi-item within-group agreement rwg(j) of a J-item scale, truncated to [0, 1].

    Parameters
    ----------
    item_variances : array_like, shape (..., J)
        Observed within-group variance of each of the scale's J items (last axis). Items
        with an undefined variance (NaN) are left out of the mean variance.
    n_points : int
        Number of scale points ``A``.

    Returns
    -------
    ndarray, shape (...)

    Notes
    -----
    With :math:`\\bar s^2` the mean of the J item variances and
    :math:`\\sigma^2_{EU} = (A^2 - 1)/12`,

    .. math:: r_{wg(J)} = \\frac{J (1 - \\bar s^2/\\sigma^2_{EU})}
              {J (1 - \\bar s^2/\\sigma^2_{EU}) + \\bar s^2/\\sigma^2_{EU}}

    (James, Demaree & Wolf 1984, eq. 5). If :math:`\\bar s^2 > \\sigma^2_{EU}` the formula
    leaves [0, 1] (it can even exceed 1), so the value is truncated to 0 as James et al.
    (1984) and LeBreton & Senter (2008, Question 9) recommend: the observed variance is
    set equal to the null variance, which gives 0. J counts the items with a defined
    variance. For J = 1 this equals :func:`rwg`.

    References
    ----------
    James, L. R., Demaree, R. G., & Wolf, G. (1984). *J. Appl. Psychol.*, 69, 85-98.
    LeBreton, J. M., & Senter, J. L. (2008). *Organ. Res. Methods*, 11, 815-852.
    """
    v = np.asarray(item_variances, dtype=np.float64)
    sigma2 = expected_uniform_variance(n_points)
    j = (~np.isnan(v)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_var = np.nansum(v, axis=-1) / j
        ratio = mean_var / sigma2
        value = j * (1.0 - ratio) / (j * (1.0 - ratio) + ratio)
    value = np.where(j == 0, np.nan, value)
    return np.where(mean_var > sigma2, 0.0, value)


@dataclass(frozen=True, slots=True, eq=False)
class Icc:
    """One-way random-effects intraclass correlations, one value per column.

    Attributes
    ----------
    icc1, icc2 : ndarray
        ICC(1) and ICC(2) (NaN with fewer than two groups or no within-group df).
    msb, msw : ndarray
        Between- and within-group mean squares.
    n0 : ndarray
        Average group size adjusted for unequal sizes.
    n_groups, n : ndarray of int
        Groups and respondents that took part.
    """

    icc1: NDArray[np.float64]
    icc2: NDArray[np.float64]
    msb: NDArray[np.float64]
    msw: NDArray[np.float64]
    n0: NDArray[np.float64]
    n_groups: NDArray[np.int64]
    n: NDArray[np.int64]


def icc_oneway(n: ArrayLike, mean: ArrayLike, ss_within: ArrayLike) -> Icc:
    """ICC(1) and ICC(2) from the one-way ANOVA of group summaries.

    Parameters
    ----------
    n : array_like of int, shape (groups, columns)
        Group sizes (groups with n = 0 are ignored).
    mean : array_like, shape (groups, columns)
        Group means.
    ss_within : array_like, shape (groups, columns)
        Sum of squared deviations from the group mean, :math:`(n_g - 1) s_g^2`.

    Returns
    -------
    Icc

    Notes
    -----
    :math:`MSB = \\sum_g n_g(\\bar y_g - \\bar y)^2 / (G-1)`,
    :math:`MSW = \\sum_g SS_g / (N - G)`,

    .. math:: ICC(1) = \\frac{MSB - MSW}{MSB + (n_0 - 1) MSW}, \\qquad
              ICC(2) = \\frac{MSB - MSW}{MSB}, \\qquad
              n_0 = \\frac{1}{G-1}\\left(N - \\frac{\\sum_g n_g^2}{N}\\right)

    (Bliese 2000, eq. 1 and 3; Shrout & Fleiss 1979, ICC(1,1) and ICC(1,k); :math:`n_0`
    from Snedecor & Cochran for unequal group sizes). ICC(1) can be negative when groups
    differ less than chance; it is reported as computed.

    References
    ----------
    Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In
    K. J. Klein & S. W. J. Kozlowski (Eds.), *Multilevel Theory, Research, and Methods
    in Organizations* (pp. 349-381). Jossey-Bass.
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing
    rater reliability. *Psychological Bulletin*, 86, 420-428.
    """
    n_arr = np.asarray(n, dtype=np.float64)
    m = np.asarray(mean, dtype=np.float64)
    ss = np.asarray(ss_within, dtype=np.float64)
    present = n_arr > 0
    big_n = np.where(present, n_arr, 0).sum(axis=0)
    groups = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = np.where(present, n_arr * np.nan_to_num(m), 0).sum(axis=0) / big_n
        dev = np.where(present, np.nan_to_num(m) - grand, 0.0)
        msb = (n_arr * dev * dev).sum(axis=0) / (groups - 1)
        msw = np.where(present, np.nan_to_num(ss), 0).sum(axis=0) / (big_n - groups)
        n0 = (big_n - (np.where(present, n_arr, 0) ** 2).sum(axis=0) / big_n) / (groups - 1)
        icc1 = (msb - msw) / (msb + (n0 - 1) * msw)
        icc2 = (msb - msw) / msb
    ok = (groups >= 2) & (big_n > groups)
    nan = np.full(icc1.shape, np.nan)
    return Icc(
        icc1=np.where(ok, icc1, nan),
        icc2=np.where(ok, icc2, nan),
        msb=np.where(groups >= 2, msb, nan),
        msw=np.where(big_n > groups, msw, nan),
        n0=np.where(groups >= 2, n0, nan),
        n_groups=groups.astype(np.int64),
        n=big_n.astype(np.int64),
    )


def group_mean_reliability(n: ArrayLike, icc1: ArrayLike) -> NDArray[np.float64]:
    """Reliability of each group's mean (Spearman-Brown): n ICC1 / (1 + (n - 1) ICC1).

    Negative ICC(1) is taken as 0 (a group mean then carries no information about
    stable group differences), so the reliability lies in [0, 1].

    References
    ----------
    Bliese, P. D. (2000), eq. 2 (ICC(2) of a group of size n).
    """
    n_arr = np.asarray(n, dtype=np.float64)
    rho = np.clip(np.asarray(icc1, dtype=np.float64), 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = n_arr * rho / (1.0 + (n_arr - 1.0) * rho)
    return np.where(n_arr > 0, lam, np.nan)


def shrunken_means(
    mean: ArrayLike, reliability: ArrayLike, grand_mean: ArrayLike
) -> NDArray[np.float64]:
    """Empirical-Bayes group means: lambda * mean_g + (1 - lambda) * grand mean.

    Notes
    -----
    :math:`\\tilde y_g = \\lambda_g \\bar y_g + (1-\\lambda_g) \\bar y` with
    :math:`\\lambda_g` the Spearman-Brown reliability of the group mean; this is the
    posterior mean of the group effect in the one-way random-effects model with the
    variance components estimated by ANOVA (Raudenbush & Bryk 2002, eq. 3.56-3.57). Small
    or unreliable groups move towards the grand mean, so ranking them does not reward
    noise.

    References
    ----------
    Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical Linear Models* (2nd ed.).
    Sage.
    """
    lam = np.asarray(reliability, dtype=np.float64)
    return lam * np.asarray(mean, dtype=np.float64) + (1.0 - lam) * np.asarray(grand_mean)
