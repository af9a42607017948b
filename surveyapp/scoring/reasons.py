"""Why a number in the analysis is missing: the reason codes beside every ``null``.

``docs/analysis-json.md`` ("Why a value is null") explains each code to readers.
"""

from __future__ import annotations

NEVER_ANSWERED = "never_answered"  # nobody (in this group) answered: n = 0
ONE_VALUE = "one_value"  # a single value: no spread, interval, agreement or test
ZERO_VARIANCE = "zero_variance"  # every value the same: a weight or standard error is 0
ONE_GROUP = "one_group"  # fewer than two groups to compare
ALL_TIED = "all_tied"  # Kruskal-Wallis: every value tied
REST_TOO_FEW = "rest_too_few"  # group vs rest: fewer than two scores outside the group
ONE_ITEM = "one_item"  # alpha: fewer than two items
TOO_FEW_COMPLETE = "too_few_complete"  # alpha: fewer than two respondents answered all
TOO_FEW_ORGANISATIONS = "too_few_organisations"  # benchmark: norm group too small
NO_NORM_GROUP = "no_norm_group"  # benchmark: no norm group given
NO_PREVIOUS_CAMPAIGN = "no_previous_campaign"  # change: no previous campaign given
NO_TOP_MANAGEMENT = "no_top_management"  # perception gap: no top management given
NOT_COMPUTABLE = "not_computable"  # none of the above (not expected; kept as a safe net)

REASONS = (
    NEVER_ANSWERED,
    ONE_VALUE,
    ZERO_VARIANCE,
    ONE_GROUP,
    ALL_TIED,
    REST_TOO_FEW,
    ONE_ITEM,
    TOO_FEW_COMPLETE,
    TOO_FEW_ORGANISATIONS,
    NO_NORM_GROUP,
    NO_PREVIOUS_CAMPAIGN,
    NO_TOP_MANAGEMENT,
    NOT_COMPUTABLE,
)
