"""Internal consistency of a dimension: Cronbach's alpha with item diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveyapp.scoring._distributions import f_ppf
from surveyapp.scoring.reasons import NEVER_ANSWERED, ONE_ITEM, TOO_FEW_COMPLETE, ZERO_VARIANCE

__all__ = ["Reliability", "cronbach_alpha"]


@dataclass(frozen=True, slots=True, eq=False)
class Reliability:
    """Cronbach's alpha of one scale.

    Attributes
    ----------
    n : int
        Respondents used (those who answered every item alpha is over: listwise
        deletion).
    n_items : int
        Items of the scale.
    alpha : float
        NaN with fewer than two items, fewer than two respondents or a total score of
        zero variance (``reason`` says which).
    ci_low, ci_high : float
        Feldt confidence interval.
    item_rest_r : ndarray, shape (n_items,)
        Corrected item-total correlation (item with the sum of the other items).
    alpha_if_deleted : ndarray, shape (n_items,)
        Alpha of the remaining items (NaN when fewer than two would remain).
    used : ndarray of bool, shape (n_items,)
        Items alpha is over: every item somebody answered. An item nobody answered
        contributes to no one's score, so alpha describes the score without it.
    reason : str or None
        Why alpha (and its interval) is NaN: ``one_item`` (fewer than two items),
        ``never_answered`` (fewer than two items that anybody answered),
        ``too_few_complete`` (fewer than two respondents answered every item) or
        ``zero_variance`` (everyone has the same total); None when computed.
    item_reasons : tuple of (str or None, str or None)
        Per item, why ``item_rest_r`` and ``alpha_if_deleted`` are NaN (None where
        computed), with the codes of ``reason``.
    """

    n: int
    n_items: int
    alpha: float
    ci_low: float
    ci_high: float
    item_rest_r: NDArray[np.float64]
    alpha_if_deleted: NDArray[np.float64]
    used: NDArray[np.bool_] | None = None
    reason: str | None = None
    item_reasons: tuple[tuple[str | None, str | None], ...] = ()

    @property
    def n_used(self) -> int:
        """Items alpha is over."""
        return self.n_items if self.used is None else int(self.used.sum())


def _alpha_from_cov(cov: NDArray[np.float64]) -> float:
    k = cov.shape[0]
    total = cov.sum()
    if k < 2 or not np.isfinite(total) or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(cov) / total))


def cronbach_alpha(items: ArrayLike, *, confidence: float = 0.95) -> Reliability:
    """Cronbach's alpha with the Feldt interval, item-rest r and alpha if item deleted.

    Parameters
    ----------
    items : array_like, shape (n_respondents, n_items)
        Item answers of one dimension, reverse-keyed items already recoded; NaN for
        missing. Items nobody answered are left out (they are in no one's score); then
        rows with any missing item are dropped (listwise deletion).
    confidence : float, default 0.95

    Returns
    -------
    Reliability

    Notes
    -----
    With item covariance matrix :math:`C` (denominator n - 1) of :math:`k` items,

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}
              {\\mathbf 1^\\top C \\mathbf 1}\\right)

    (Cronbach 1951). Feldt's interval (Feldt 1965; Feldt, Woodruff & Salih 1987, eq. 6-7):
    :math:`[1 - (1-\\hat\\alpha) F_{1-\\gamma/2},\\; 1 - (1-\\hat\\alpha) F_{\\gamma/2}]`
    with :math:`F` quantiles on :math:`(n-1, (n-1)(k-1))` degrees of freedom. Item-rest
    correlation of item :math:`i` with the rest score :math:`R_i = \\sum_{j \\ne i} x_j`:
    :math:`r_{i,R} = (c_{i\\cdot} - c_{ii}) / \\sqrt{c_{ii}\\,\\operatorname{var}(R_i)}` with
    :math:`\\operatorname{var}(R_i) = \\mathbf 1^\\top C \\mathbf 1 - 2 c_{i\\cdot} + c_{ii}`;
    alpha if deleted is alpha of :math:`C` without row and column :math:`i`.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
    reliability coefficient twenty. *Psychometrika*, 30, 357-370.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. *Applied Psychological Measurement*, 11, 93-103.
    """
    x = np.asarray(items, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"items must be 2-D (respondents x items); got {x.ndim}-D.")
    k_all = x.shape[1]
    missing = np.isnan(x)
    used = ~missing.all(axis=0)  # an item nobody answered is left out
    if used.all():  # the usual case: no copy of the columns before choosing the rows
        kept, kept_missing = x, missing
    else:
        kept, kept_missing = x[:, used], missing[:, used]
    complete = kept[~kept_missing.any(axis=1)]
    n, k = complete.shape
    result = _alpha_of(complete, confidence)
    item_rest = np.full(k_all, np.nan)
    deleted = np.full(k_all, np.nan)
    item_rest[used] = result.item_rest_r
    deleted[used] = result.alpha_if_deleted
    if k_all < 2:
        reason = ONE_ITEM
    elif k < 2:
        reason = NEVER_ANSWERED
    elif n < 2:
        reason = TOO_FEW_COMPLETE
    elif np.isnan(result.alpha):
        reason = ZERO_VARIANCE
    else:
        reason = None
    item_reasons = []
    for j in range(k_all):
        if not used[j]:
            item_reasons.append((NEVER_ANSWERED, NEVER_ANSWERED))
            continue
        rest_why = None if np.isfinite(item_rest[j]) else _item_reason(k_all, k, n)
        deleted_why = None
        if not np.isfinite(deleted[j]):
            deleted_why = ONE_ITEM if k_all <= 2 else _item_reason(k_all - 1, k - 1, n)
        item_reasons.append((rest_why, deleted_why))
    return Reliability(
        n=int(n),
        n_items=int(k_all),
        alpha=result.alpha,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        item_rest_r=item_rest,
        alpha_if_deleted=deleted,
        used=used,
        reason=reason,
        item_reasons=tuple(item_reasons),
    )


def _item_reason(k_all: int, k: int, n: int) -> str:
    """Why a statistic over ``k`` answered items (of ``k_all``) and n complete rows is NaN."""
    if k_all < 2:
        return ONE_ITEM
    if k < 2:
        return NEVER_ANSWERED
    if n < 2:
        return TOO_FEW_COMPLETE
    return ZERO_VARIANCE


def _alpha_of(complete: NDArray[np.float64], confidence: float) -> Reliability:
    """Alpha and item diagnostics of complete rows (no NaN)."""
    n, k = complete.shape
    nan_k = np.full(k, np.nan)
    if n < 2 or k < 2:
        return Reliability(n, k, float("nan"), float("nan"), float("nan"), nan_k, nan_k)
    cov = np.atleast_2d(np.cov(complete, rowvar=False))
    alpha = _alpha_from_cov(cov)
    df1 = n - 1
    df2 = (n - 1) * (k - 1)
    gamma = 1.0 - confidence
    lower = 1.0 - (1.0 - alpha) * f_ppf(1.0 - gamma / 2, df1, df2)
    upper = 1.0 - (1.0 - alpha) * f_ppf(gamma / 2, df1, df2)

    row = cov.sum(axis=1)
    total = row.sum()
    diag = np.diag(cov)
    rest_var = total - 2.0 * row + diag
    with np.errstate(invalid="ignore", divide="ignore"):
        item_rest = (row - diag) / np.sqrt(diag * rest_var)
    if k > 2:
        keep = ~np.eye(k, dtype=bool)
        deleted = np.array(
            [_alpha_from_cov(cov[np.ix_(keep[i], keep[i])]) for i in range(k)]
        )  # k <= a few dozen items: k small covariance reductions
    else:
        deleted = nan_k.copy()
    return Reliability(
        n=int(n),
        n_items=int(k),
        alpha=alpha,
        ci_low=float(lower),
        ci_high=float(upper),
        item_rest_r=item_rest,
        alpha_if_deleted=deleted,
    )
