"""A small IAM policy evaluator for identity-based policies.

moto has no policy simulator and the real one (iam:SimulatePrincipalPolicy)
would need one more permission for the portal, so verification decides with
this module whether a role's policies let it call ``action`` on ``resource``.

Covered: ``Statement`` as an object or a list; ``Action``/``NotAction`` and
``Resource``/``NotResource`` as a string or a list; ``*`` and ``?`` wildcards,
case-insensitive in actions and case-sensitive in resources, matched per ARN
segment (a wildcard in the region part cannot swallow the account part, as in
IAM); explicit Deny beats Allow; default deny.

Conditions are evaluated only against a request ``context`` the caller
states (``{"kms:ViaService": "secretsmanager.us-west-2.amazonaws.com"}``),
with the string operators (``StringEquals``, ``StringNotEquals``, their
``IgnoreCase`` forms, ``StringLike``, ``StringNotLike``, each also with
``IfExists``): a Condition whose every key is in the context and whose every
operator is one of these holds or not; any other is unknown.

Not covered, on purpose: other condition operators and keys, the set
operators (``ForAnyValue:``), policy variables (``${aws:username}``),
principals (use the trust checks), resource policies, SCPs and session
policies. Such statements are never guessed at. The choice is
conservative: a verdict of "allowed" must be provable, so

- a conditional Allow never grants (``reason="conditional_allow_only"``);
- a conditional Deny that might apply withholds the grant
  (``reason="conditional_deny"``).

Callers can show those two as "cannot tell" rather than as failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Reason = Literal[
    "allowed", "explicit_deny", "conditional_deny", "conditional_allow_only", "implicit_deny"
]

_VARIABLE = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class StatementRef:
    """Where a statement lives, for messages: the policy's label and its Sid."""

    policy: str
    index: int
    sid: str = ""

    def __str__(self) -> str:
        which = f"statement {self.sid!r}" if self.sid else f"statement #{self.index + 1}"
        return f"{which} of {self.policy}" if self.policy else which


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()
    conditional: tuple[StatementRef, ...] = ()


@dataclass(frozen=True)
class LabelledPolicy:
    label: str
    document: Mapping[str, Any] | str


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def statements(document: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    """The statements of a policy document (a dict or its JSON text)."""
    if isinstance(document, str):
        document = json.loads(document)
    raw = document.get("Statement", [])
    items = [raw] if isinstance(raw, Mapping) else list(raw)
    return [s for s in items if isinstance(s, Mapping)]


@lru_cache(maxsize=4096)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM's glob: ``*`` is any run of characters, ``?`` exactly one."""
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    return wildcard_match(pattern, action, case_sensitive=False)


def resource_matches(pattern: str, resource: str) -> bool:
    """Match an ARN pattern segment by segment (partition, service, region,
    account, resource); anything that is not a six-part ARN is matched whole."""
    if pattern == "*":
        return True
    p_parts, r_parts = pattern.split(":", 5), resource.split(":", 5)
    if len(p_parts) == 6 and len(r_parts) == 6:
        return all(wildcard_match(p, r) for p, r in zip(p_parts, r_parts, strict=True))
    return wildcard_match(pattern, resource)


def _matches_any(patterns: list[str], value: str, matcher: Any) -> bool:
    return any(matcher(p, value) for p in patterns)


def covers_action(statement: Mapping[str, Any], action: str) -> bool:
    """Whether the statement's ``Action`` (or ``NotAction``) clause covers
    ``action``; a statement with neither covers nothing."""
    if "Action" in statement:
        return _matches_any(as_list(statement["Action"]), action, action_matches)
    if "NotAction" in statement:
        return not _matches_any(as_list(statement["NotAction"]), action, action_matches)
    return False


def allows(statement: Mapping[str, Any], action: str) -> bool:
    """An Allow statement whose action clause covers ``action`` (resources,
    principals and conditions aside)."""
    return statement.get("Effect") == "Allow" and covers_action(statement, action)


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether the statement's action and resource clauses cover the request.
    Policy variables count as ``*`` here: callers treat such statements as
    conditional, so "might apply" is the right reading."""
    if not covers_action(statement, action):
        return False
    if "Resource" in statement:
        patterns = [_VARIABLE.sub("*", p) for p in as_list(statement["Resource"])]
        return _matches_any(patterns, resource, resource_matches)
    if "NotResource" in statement:
        # A variable in NotResource could exclude anything: assume it might not.
        patterns = [p for p in as_list(statement["NotResource"]) if not _VARIABLE.search(p)]
        return not _matches_any(patterns, resource, resource_matches)
    # Identity policies need a resource clause; IAM rejects one without it.
    return False


def _has_variable(statement: Mapping[str, Any]) -> bool:
    clauses = as_list(statement.get("Resource")) + as_list(statement.get("NotResource"))
    return any(_VARIABLE.search(p) for p in clauses)


def _is_conditional(statement: Mapping[str, Any]) -> bool:
    return bool(statement.get("Condition")) or _has_variable(statement)


def _string_test(operator: str) -> tuple[Any, bool] | None:
    """(match(policy value, request value), negated) for a string operator."""
    name = operator.removesuffix("IfExists")
    negated = "Not" in name
    base = name.replace("Not", "", 1)
    if base == "StringEquals":
        return (lambda want, got: want == got), negated
    if base == "StringEqualsIgnoreCase":
        return (lambda want, got: want.lower() == got.lower()), negated
    if base == "StringLike":
        return (lambda want, got: wildcard_match(want, got)), negated
    return None


def condition_holds(statement: Mapping[str, Any], context: Mapping[str, str]) -> bool | None:
    """Whether the statement's Condition holds for a request with ``context``;
    None when this evaluator cannot tell (an operator it does not know, a
    key the context does not state, a policy variable)."""
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping) or not condition or _has_variable(statement):
        return None
    given = {key.lower(): value for key, value in context.items()}  # keys are case-insensitive
    for operator, entries in condition.items():
        test = _string_test(str(operator))
        if test is None or not isinstance(entries, Mapping):
            return None
        match, negated = test
        for key, wanted in entries.items():
            got = given.get(str(key).lower())
            values = as_list(wanted)
            if got is None or any(_VARIABLE.search(v) for v in values):
                return None
            # Several values: any of them (none of them, for the Not forms).
            if any(match(v, got) for v in values) == negated:
                return False
    return True


def _labelled(policies: Iterable[Any]) -> Iterable[LabelledPolicy]:
    for i, policy in enumerate(policies):
        if isinstance(policy, LabelledPolicy):
            yield policy
        elif hasattr(policy, "label") and hasattr(policy, "document"):
            yield LabelledPolicy(str(policy.label), policy.document)
        else:
            yield LabelledPolicy(f"policy #{i + 1}", policy)


def evaluate(
    policies: Iterable[Any],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """Decide ``action`` on ``resource`` under all ``policies`` together.

    ``policies`` holds documents (dicts or JSON text), ``LabelledPolicy``
    objects, or anything with ``label`` and ``document`` attributes (such as
    the AWS adapter's ``RolePolicy``). ``context`` states condition keys of
    the request (see the module's docstring).
    """
    allows: list[StatementRef] = []
    denies: list[StatementRef] = []
    conditional_allows: list[StatementRef] = []
    conditional_denies: list[StatementRef] = []
    for policy in _labelled(policies):
        for index, st in enumerate(statements(policy.document)):
            if not _applies(st, action, resource):
                continue
            ref = StatementRef(policy.label, index, str(st.get("Sid") or ""))
            effect, conditional = st.get("Effect"), _is_conditional(st)
            if conditional and context:
                holds = condition_holds(st, context)
                if holds is False:
                    continue
                conditional = holds is None
            if effect == "Deny":
                (conditional_denies if conditional else denies).append(ref)
            elif effect == "Allow":
                (conditional_allows if conditional else allows).append(ref)
    conditional = tuple(conditional_denies + conditional_allows)
    common = {"allowed_by": tuple(allows), "denied_by": tuple(denies), "conditional": conditional}
    if denies:
        return Decision(False, "explicit_deny", **common)
    if allows and conditional_denies:
        return Decision(False, "conditional_deny", **common)
    if allows:
        return Decision(True, "allowed", **common)
    if conditional_allows:
        return Decision(False, "conditional_allow_only", **common)
    return Decision(False, "implicit_deny", **common)


def is_allowed(
    policies: Iterable[Any], action: str, resource: str, context: Mapping[str, str] | None = None
) -> bool:
    return evaluate(policies, action, resource, context).allowed
