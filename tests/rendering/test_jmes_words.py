"""A JSON key path that does not compile is refused in words the requester
can act on ("the key path `a..b` has an empty part"), never with the JMESPath
parser's own text ("Parse error at column 2, token ...")."""

from __future__ import annotations

import warnings

import jmespath
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jmespath.exceptions import JMESPathError

from secrets_app.rendering.jmes import check_path, normalize_path

WORDS = {
    "a..b": "The key path `a..b` has an empty part (two dots with no key between them).",
    'a."b"..c': 'The key path `a."b"..c` has an empty part (two dots with no key between them).',
    ".password": "The key path `.password` starts with a dot: begin with the first key, "
    "without a dot.",
    "db.": "The key path `db.` ends with a dot: remove it, or add the key that follows.",
    "hosts[0].": "The key path `hosts[0].` ends with a dot: remove it, or add the key that "
    "follows.",
    "hosts[0": "The key path `hosts[0` has a `[` without its `]`.",
    "hosts]0[": "The key path `hosts]0[` has a `]` without its `[`.",
    "a[0].b)": "The key path `a[0].b)` has a `)` without its `(`.",
    '"db-password': 'The key path `"db-password` has a " that is never closed.',
    "a['x": "The key path `a['x` has a ' that is never closed.",
}
QUOTE_HINT = (
    'A key with other characters than letters, digits and _ goes in double quotes ("db-password").'
)


@pytest.mark.parametrize("path, words", WORDS.items(), ids=WORDS.keys())
def test_the_common_mistakes_are_said_in_words(path, words):
    assert check_path(path) == words


@pytest.mark.parametrize("path, character", [("a[0].db-password", "-"), ("a[0].grüße", "ü")])
def test_a_character_a_bare_key_cannot_have_says_how_to_quote(path, character):
    assert check_path(path) == (
        f"The key path `{path}` has `{character}`, which a key outside quotes cannot have. "
        + QUOTE_HINT
    )


@pytest.mark.parametrize(
    "path",
    ["password", "db-password", "db.user-name", "hosts[0]", '"a.b"', "a b", "items[*].name"],
)
def test_good_paths_pass(path):
    assert check_path(path) is None


def test_anything_else_names_where_it_stops():
    assert check_path("a[?x==]") == (
        "The key path `a[?x==]` cannot be read from character 7 (`]`): check the expression there."
    )
    assert check_path("x[0] |") == (
        "The key path `x[0] |` is incomplete: it ends where a key or an index is still expected."
    )


def parser_text(path: str) -> str | None:
    """What jmespath itself says of the path, or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PendingDeprecationWarning)
            jmespath.compile(normalize_path(path))
    except JMESPathError as exc:
        return str(exc)
    except PendingDeprecationWarning as exc:
        return str(exc)
    return None


# The characters that make up JMESPath, the mistakes above, and some others.
PATHS = st.text(alphabet=st.sampled_from("ab_0.[]\"'`|*@(){}&!<>=,?:$- \\-ü#"), max_size=14)
#: Words of the parser's messages that mean nothing to a requester.
PARSER_WORDS = ("jmespath", "token", "lexer", "parse error", "column", "expecting", "^")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATHS.filter(lambda p: p.strip() == p and p))
def test_no_parser_text_ever_reaches_the_requester(path):
    assume("../" not in path)  # refused before parsing, in the provider's words
    said = check_path(path)
    parser = parser_text(path)
    if parser is None:
        assert said is None
        return
    assert said is not None
    assert said.startswith(f"The key path `{path}` ")
    rest = said.removeprefix(f"The key path `{path}` ")
    for line in parser.splitlines():
        if line.strip() and line.strip() not in path:
            assert line.strip() not in rest
    assert not any(word in rest.lower() for word in PARSER_WORDS), said
