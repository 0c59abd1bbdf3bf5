"""How many approvals a request needs: the one rule the workflow approves
by and the approval queue counts with, so the two never disagree."""

from __future__ import annotations


def approvals_needed(approvals: int, required: int) -> int:
    """Distinct approvals still missing (0 once there are enough)."""
    return max(required - approvals, 0)


def has_enough_approvals(approvals: int, required: int) -> bool:
    """Whether ``approvals`` distinct approvers meet the cluster's ``required``."""
    return approvals_needed(approvals, required) == 0
