"""Comparing groups: Welch's ANOVA, Kruskal-Wallis, Games-Howell, each group vs the rest.

All functions work on group summaries (sizes, means, variances) or value tables, and are
vectorised over columns (dimensions), so a whole heatmap is one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveyapp.scoring._distributions import chi2_sf, f_sf, t_ppf, t_sf
from surveyapp.scoring._studentized import tukey_sf_and_quantile
from surveyapp.scoring.descriptives import ValueTable

__all__ = [
    "GamesHowell",
    "benjamini_hochberg",
    "Kruskal",
    "VersusRest",
    "WelchAnova",
    "games_howell",
    "kruskal",
    "versus_rest",
    "welch_anova",
]


@dataclass(frozen=True, slots=True, eq=False)
class WelchAnova:
    """Welch's heteroscedastic one-way ANOVA, one value per column.

    ``k`` and ``n`` are the groups and respondents that took part (groups with at least
    two values and a positive variance). ``zero_variance`` (groups x columns) marks the
    groups with two or more values that were left out because all their values are the
    same.
    """

    F: NDArray[np.float64]  # noqa: N815 - the statistic's conventional name
    df1: NDArray[np.float64]
    df2: NDArray[np.float64]
    p: NDArray[np.float64]
    omega2: NDArray[np.float64]
    k: NDArray[np.int64]
    n: NDArray[np.int64]
    zero_variance: NDArray[np.bool_] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Kruskal:
    """Kruskal-Wallis rank test with ties correction, one value per column."""

    H: NDArray[np.float64]  # noqa: N815 - the statistic's conventional name
    df: NDArray[np.float64]
    p: NDArray[np.float64]
    epsilon2: NDArray[np.float64]
    k: NDArray[np.int64]
    n: NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class GamesHowell:
    """Games-Howell pairwise comparisons, arrays of shape (pairs, columns).

    Pair ``i`` compares group ``a[i]`` with group ``b[i]`` (indices into the groups given);
    ``diff = mean[a] - mean[b]``.
    """

    a: NDArray[np.intp]
    b: NDArray[np.intp]
    diff: NDArray[np.float64]
    se: NDArray[np.float64]
    t: NDArray[np.float64]
    df: NDArray[np.float64]
    p: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class VersusRest:
    """Each group against the rest of the organisation, arrays of shape (groups, columns).

    ``diff = mean(group) - mean(rest)``; ``p_bh`` is Benjamini-Hochberg adjusted over every
    tested cell of the table (NaN where untested).
    """

    diff: NDArray[np.float64]
    se: NDArray[np.float64]
    t: NDArray[np.float64]
    df: NDArray[np.float64]
    p: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    p_bh: NDArray[np.float64]


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    r"""Benjamini-Hochberg adjusted p-values of any shape; NaN entries stay NaN.

    Notes
    -----
    For the m finite p-values sorted ascending,
    :math:`\tilde p_{(i)} = \min_{j \ge i} \min(1, m\,p_{(j)}/j)` (Benjamini &
    Hochberg 1995), computed as :func:`scipy.stats.false_discovery_control` does (the
    same operations, so the same numbers, without importing ``scipy.stats``).

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a
    practical and powerful approach to multiple testing. *Journal of the Royal
    Statistical Society B*, 57, 289-300.
    """
    arr = np.asarray(p, dtype=np.float64)
    out = np.full(arr.shape, np.nan)
    ok = np.isfinite(arr)
    if ok.any():
        out[ok] = _step_up(arr[ok])
    return out


def _step_up(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg values of finite p-values, as ``false_discovery_control``."""
    if np.any((p < 0.0) | (p > 1.0)):
        raise ValueError("p-values must lie between 0 and 1.")
    m = p.size
    if m <= 1:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * (m / np.arange(1, m + 1, dtype=np.float64))
    # From the largest p down, each adjusted value is at most the one after it.
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    adjusted = np.empty_like(ranked)
    adjusted[order] = ranked
    return np.clip(adjusted, 0.0, 1.0)


def _as_2d(x: ArrayLike, dtype: type = np.float64) -> NDArray:
    a = np.asarray(x, dtype=dtype)
    return a[:, None] if a.ndim == 1 else a


def welch_anova(n: ArrayLike, mean: ArrayLike, var: ArrayLike) -> WelchAnova:
    """Welch's F test of equal means without assuming equal variances.

    Parameters
    ----------
    n, mean, var : array_like, shape (groups,) or (groups, columns)
        Group sizes, means and sample variances. Groups with fewer than two values are
        left out (their variance is undefined), and so are groups whose values are all
        the same (variance 0: the weight n/s^2 would be infinite and the test
        undefined); the test compares the other groups.

    Returns
    -------
    WelchAnova
        NaN where fewer than two groups take part.

    Notes
    -----
    With :math:`w_g = n_g / s_g^2`, :math:`W = \\sum w_g`,
    :math:`\\tilde y = \\sum w_g \\bar y_g / W` and
    :math:`\\Lambda = \\sum (1 - w_g/W)^2/(n_g - 1)`:

    .. math:: F = \\frac{\\sum w_g(\\bar y_g - \\tilde y)^2 / (k-1)}
              {1 + \\frac{2(k-2)}{k^2-1}\\Lambda}, \\qquad
              \\nu_1 = k-1, \\quad \\nu_2 = \\frac{k^2-1}{3\\Lambda}

    (Welch 1951; R ``oneway.test``). Effect size: the omega-squared estimate from the
    Welch F, :math:`\\hat\\omega^2 = \\frac{(k-1)(F-1)}{(k-1)(F-1) + N}`, truncated at 0
    (Carroll & Nordholm 1975; it is the classical estimator written in terms of F, used
    for Welch's F by e.g. Kirk 1996; the R package effectsize computes the same value as
    ``F_to_omega2(F, k - 1, N - k)``).

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative
    approach. *Biometrika*, 38, 330-336.
    Carroll, R. M., & Nordholm, L. A. (1975). Sampling characteristics of Kelley's
    epsilon and Hays' omega. *Educational and Psychological Measurement*, 35, 541-554.
    Kirk, R. E. (1996). Practical significance: A concept whose time has come.
    *Educational and Psychological Measurement*, 56, 746-759.
    """
    n_arr = _as_2d(n)
    m = _as_2d(mean)
    v = _as_2d(var)
    scored = n_arr >= 2
    zero_var = scored & ~(v > 0)
    use = scored & ~zero_var
    k = use.sum(axis=0)
    big_n = np.where(use, n_arr, 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(use, n_arr / v, 0.0)
        total_w = w.sum(axis=0)
        centre = np.where(use, w * np.nan_to_num(m), 0.0).sum(axis=0) / total_w
        a = np.where(use, w * (np.nan_to_num(m) - centre) ** 2, 0.0).sum(axis=0) / (k - 1)
        lam = np.where(use, (1.0 - w / total_w) ** 2 / (n_arr - 1), 0.0).sum(axis=0)
        b = 1.0 + 2.0 * (k - 2) / (k * k - 1.0) * lam
        f_stat = a / b
        df1 = (k - 1).astype(np.float64)
        df2 = (k * k - 1.0) / (3.0 * lam)
        p = f_sf(f_stat, df1, df2)
        omega2 = np.maximum(df1 * (f_stat - 1) / (df1 * (f_stat - 1) + big_n), 0.0)
    bad = k < 2
    nan = np.full(f_stat.shape, np.nan)
    return WelchAnova(
        F=np.where(bad, nan, f_stat),
        df1=np.where(bad, nan, df1),
        df2=np.where(bad, nan, df2),
        p=np.where(bad, nan, p),
        omega2=np.where(bad, nan, omega2),
        k=k.astype(np.int64),
        n=big_n.astype(np.int64),
        zero_variance=zero_var,
    )


def kruskal(table: ValueTable) -> Kruskal:
    """Kruskal-Wallis H test with the correction for ties, from a value table.

    Parameters
    ----------
    table : ValueTable
        Value counts of the groups to compare (groups without values are ignored).

    Returns
    -------
    Kruskal

    Notes
    -----
    Tied values share their mid-rank :math:`r_v = T_{<v} + (T_v + 1)/2`, where
    :math:`T_v` counts value :math:`v` over all groups, so the rank sum of group g is
    :math:`R_g = \\sum_v c_{gv} r_v`. Then

    .. math:: H = \\frac{\\frac{12}{N(N+1)}\\sum_g R_g^2/n_g - 3(N+1)}
              {1 - \\sum_v (T_v^3 - T_v)/(N^3 - N)}

    on :math:`k-1` degrees of freedom (Kruskal & Wallis 1952; R ``kruskal.test``), and
    :math:`\\varepsilon^2_R = H / ((N^2-1)/(N+1)) = H/(N-1)` (Tomczak & Tomczak 2014).

    References
    ----------
    Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion variance
    analysis. *Journal of the American Statistical Association*, 47, 583-621.
    Tomczak, M., & Tomczak, E. (2014). The need to report effect size estimates
    revisited. *Trends in Sport Sciences*, 21, 19-25.
    """
    counts = table.counts.astype(np.float64)  # (G, K, V)
    n_g = counts.sum(axis=2)
    total = counts.sum(axis=0)  # (K, V)
    big_n = total.sum(axis=1)
    k = (n_g > 0).sum(axis=0)
    before = np.cumsum(total, axis=1) - total
    midrank = before + (total + 1.0) / 2.0
    rank_sum = (counts * midrank[None, :, :]).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        term = np.where(n_g > 0, rank_sum**2 / n_g, 0.0).sum(axis=0)
        h = 12.0 / (big_n * (big_n + 1.0)) * term - 3.0 * (big_n + 1.0)
        ties = 1.0 - (total**3 - total).sum(axis=1) / (big_n**3 - big_n)
        h = h / ties
        df = (k - 1).astype(np.float64)
        p = chi2_sf(h, df)
        eps = h / (big_n - 1.0)
    bad = (k < 2) | ~(ties > 0)
    nan = np.full(h.shape, np.nan)
    return Kruskal(
        H=np.where(bad, nan, h),
        df=np.where(k < 2, nan, df),
        p=np.where(bad, nan, p),
        epsilon2=np.where(bad, nan, eps),
        k=k.astype(np.int64),
        n=big_n.astype(np.int64),
    )


def _welch_se_df(
    n1: NDArray, v1: NDArray, n2: NDArray, v2: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Welch standard error of a mean difference and Welch-Satterthwaite df."""
    with np.errstate(invalid="ignore", divide="ignore"):
        a = v1 / n1
        b = v2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return se, df


def games_howell(
    n: ArrayLike, mean: ArrayLike, var: ArrayLike, *, confidence: float = 0.95
) -> GamesHowell:
    """Games-Howell comparisons of every pair of groups, all pairs and columns at once.

    Parameters
    ----------
    n, mean, var : array_like, shape (groups,) or (groups, columns)
        Group sizes, means and sample variances. Groups with fewer than two values in a
        column take no part in that column (their pairs are NaN) and do not count in k.
    confidence : float, default 0.95

    Returns
    -------
    GamesHowell

    Notes
    -----
    For groups i, j: :math:`d = \\bar y_i - \\bar y_j`,
    :math:`se = \\sqrt{s_i^2/n_i + s_j^2/n_j}`, Welch-Satterthwaite df
    :math:`\\nu_{ij}`; p-value :math:`P(Q_{k,\\nu_{ij}} > \\sqrt 2\\,|d|/se)` and interval
    :math:`d \\pm q_{1-\\alpha; k,\\nu_{ij}}\\, se/\\sqrt 2`, with :math:`Q` the
    studentized range of ``k`` means (Games & Howell 1976). The studentized range is
    evaluated for all pairs at once by :mod:`surveyapp.scoring._studentized`.

    References
    ----------
    Games, P. A., & Howell, J. F. (1976). Pairwise multiple comparison procedures with
    unequal n's and/or variances: A Monte Carlo study. *Journal of Educational
    Statistics*, 1, 113-125.
    """
    n_arr = _as_2d(n)
    m = _as_2d(mean)
    v = _as_2d(var)
    groups, cols = n_arr.shape
    a, b = np.triu_indices(groups, k=1)
    use = n_arr >= 2
    k_col = use.sum(axis=0)
    valid = use[a] & use[b]
    diff = np.where(valid, m[a] - m[b], np.nan)
    se, df = _welch_se_df(n_arr[a], v[a], n_arr[b], v[b])
    se = np.where(valid & (se > 0), se, np.nan)
    df = np.where(np.isnan(se), np.nan, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / se
    p = np.full(diff.shape, np.nan)
    half = np.full(diff.shape, np.nan)
    for k in np.unique(k_col[k_col >= 2]):  # nearly always a single k for all columns
        cols_k = np.flatnonzero(k_col == k)
        cell = np.isfinite(t[:, cols_k])
        if not cell.any():
            continue
        t_k = t[:, cols_k][cell]
        df_k = df[:, cols_k][cell]
        p_k = np.full(cell.shape, np.nan)
        h_k = np.full(cell.shape, np.nan)
        sf, q_crit = tukey_sf_and_quantile(np.sqrt(2.0) * np.abs(t_k), confidence, int(k), df_k)
        p_k[cell] = sf
        h_k[cell] = q_crit / np.sqrt(2.0) * se[:, cols_k][cell]
        p[:, cols_k] = p_k
        half[:, cols_k] = h_k
    return GamesHowell(
        a=a, b=b, diff=diff, se=se, t=t, df=df, p=p, ci_low=diff - half, ci_high=diff + half
    )


def versus_rest(
    n: ArrayLike,
    mean: ArrayLike,
    var: ArrayLike,
    *,
    total_n: ArrayLike,
    total_mean: ArrayLike,
    total_var: ArrayLike,
    tested: ArrayLike | None = None,
    confidence: float = 0.95,
) -> VersusRest:
    """Welch t test of each group against the rest of the organisation, with BH.

    Parameters
    ----------
    n, mean, var : array_like, shape (groups, columns)
        Group summaries.
    total_n, total_mean, total_var : array_like, shape (columns,)
        Summaries of the whole organisation (the group included).
    tested : array_like of bool, shape (groups,) or (groups, columns), optional
        Cells to test (for example groups at or above the anonymity threshold); the
        Benjamini-Hochberg adjustment runs over exactly these cells.
    confidence : float, default 0.95

    Returns
    -------
    VersusRest

    Notes
    -----
    The rest is the organisation without the group:
    :math:`n_r = N - n_g`, :math:`\\bar y_r = (N\\bar y - n_g \\bar y_g)/n_r` and
    :math:`(n_r - 1)s_r^2 = (N-1)s^2 - (n_g-1)s_g^2 - \\frac{N n_g}{n_r}(\\bar y_g -
    \\bar y)^2` (the between/within split of the total sum of squares), so no pass over
    respondents is needed. Welch's t: :math:`t = (\\bar y_g - \\bar y_r)/se`,
    :math:`se = \\sqrt{s_g^2/n_g + s_r^2/n_r}`, Welch-Satterthwaite df (Welch 1947;
    R ``t.test``). The p-values of all tested cells are adjusted together with
    Benjamini & Hochberg's (1995) step-up method
    (:func:`scipy.stats.false_discovery_control`).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several
    different population variances are involved. *Biometrika*, 34, 28-35.
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate.
    *Journal of the Royal Statistical Society B*, 57, 289-300.
    """
    n_g = _as_2d(n)
    m_g = _as_2d(mean)
    v_g = _as_2d(var)
    big_n = np.asarray(total_n, dtype=np.float64)[None, :]
    big_m = np.asarray(total_mean, dtype=np.float64)[None, :]
    big_v = np.asarray(total_var, dtype=np.float64)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        n_r = big_n - n_g
        m_r = (big_n * big_m - n_g * m_g) / n_r
        ss_g = np.where(n_g >= 2, (n_g - 1) * v_g, 0.0)
        ss_r = (big_n - 1) * big_v - ss_g - big_n * n_g / n_r * (m_g - big_m) ** 2
        v_r = np.maximum(ss_r, 0.0) / (n_r - 1)
    se, df = _welch_se_df(n_g, v_g, n_r, v_r)
    ok = (n_g >= 2) & (n_r >= 2) & (se > 0)
    if tested is not None:
        mask = np.asarray(tested, dtype=bool)
        ok &= mask[:, None] if mask.ndim == 1 else mask
    diff = np.where(ok, m_g - m_r, np.nan)
    se = np.where(ok, se, np.nan)
    df = np.where(ok, df, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = diff / se
        p = 2.0 * t_sf(np.abs(t), df)
        half = t_ppf(0.5 + confidence / 2, df) * se
    p_bh = benjamini_hochberg(np.where(ok, p, np.nan))
    return VersusRest(
        diff=diff,
        se=se,
        t=t,
        df=df,
        p=p,
        ci_low=diff - half,
        ci_high=diff + half,
        p_bh=p_bh,
    )
