"""The HCL writer: every string parses back to itself, nothing interpolates."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secrets_app.rendering.hcl import Block, Ref, quote, render
from tests.rendering.rendering_hostile import hostile_text
from tests.rendering.rendering_support import expected_hcl, parse_hcl

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("plain", '"plain"'),
        ('a"b', r'"a\"b"'),
        ("a\\b", r'"a\\b"'),
        ("a\nb", r'"a\nb"'),
        ("${var.x}", r'"\u0024{var.x}"'),
        ("%{if x}", r'"\u0025{if x}"'),
        ("$${x}", r'"$\u0024{x}"'),
        ("${", r'"\u0024{"'),
        ("\x01", r'"\u0001"'),
        ("\u2028", r'"\u2028"'),
        ("é😀", '"é😀"'),
    ],
)
def test_quote(text, source):
    assert quote(text) == source


def test_refs_and_identifiers_are_checked():
    with pytest.raises(ValueError):
        Ref("x; evil")
    with pytest.raises(ValueError):
        Ref('"quoted"')
    with pytest.raises(ValueError):
        Block("resource", ("aws_iam_role", 'x" {'), ())
    with pytest.raises(ValueError):
        render([Block("r", (), (("a = 1\nb", "x"),))])


def test_header_cannot_inject_lines():
    text = render([Block("locals", (), (("a", "b"),))], header=("x\nresource evil {}",))
    assert parse_hcl(text) == {"locals": [{"a": "b"}]}


@FAST
@given(hostile_text, hostile_text, st.lists(hostile_text, max_size=3))
def test_any_string_round_trips(value, key, items):
    block = Block(
        "resource",
        ("aws_iam_role", "x"),
        (
            ("name", value),
            ("n", 3),
            ("flag", True),
            ("items", items),
            ("tags", {key: value, "fixed": items[0] if items else ""}),
            ("ref", Ref("aws_iam_role.y.arn")),
            Block("nested", (), (("v", value),)),
        ),
    )
    assert parse_hcl(render([block])) == expected_hcl([block])
