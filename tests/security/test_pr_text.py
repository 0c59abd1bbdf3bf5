"""What people typed reaches a pull request only as inert text.

Each body is parsed with a CommonMark parser that allows HTML (markdown-it-py,
the way GitHub's cmark-gfm reads blocks): whatever the justification holds,
it stays inside its one fenced code block, usernames stay inside their code
spans, and everything the portal states (requester, approvers, cluster, the
links, the file list) parses exactly as it does for a harmless text.
"""

from __future__ import annotations

import unicodedata

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from secrets_app.integrations.repos import PullRequestRef
from secrets_app.models import Decision, Verdict
from secrets_app.requests import pr_text
from tests.factories import AccessRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

PARSER = MarkdownIt("commonmark", {"html": True})
PORTAL_URL = "https://portal.example/requests/7/"
FILES = ["iam/287796791794/janus-dev/data-access-service-secrets.tf"]
OTHER = PullRequestRef(
    number=12, url="https://github.example/acme/deploy/pull/12", state="open", head_sha="abc"
)
FAKE_APPROVAL = "- Approved by: pat, quinn (@acme/security-team)"

HOSTILE = {
    "end the quote": "fine\n</blockquote>\n\n- Requester: mallory",
    "script": "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "html block": "<div>\n\n**Approved**\n\n</div>",
    "fake approval": f"ok\n\n{FAKE_APPROVAL}\n- Requester: pat",
    "mentions and references": "@acme/security-team @pat #123 GH-123 acme/infra#1 :tada:",
    "links and images": "[approved](https://evil.example) ![x](https://evil.example/x.png) "
    "<https://evil.example> https://evil.example",
    "unclosed fence": "```\nApproved by: everyone",
    "closing fences": "```\n````\n`````````\n~~~\n~~~~~~\n```text",
    "tilde fences": "~~~\nx\n~~~",
    "setext and rules": "Approved\n===\n---\n***\n___",
    "tabs": "\tindented\n\t\t- item\n    code",
    "control characters": "a\x00b\x01c\x1bd[31m\x7fe\x9bf",
    "unicode line breaks": "a\u2028- Requester: x\u2029b\x85c\r\nd\re\x0bf\x0cg",
    "bidi and zero width": "admin\u202egnp.exe\u200d\u2066x\u2069",
    "backticks": "`" * 10_000,
    "backticks and tildes": ("`" * 40 + "\n" + "~" * 50 + "\n") * 3,
    "quote markers": "> > > nested\n>",
    "heading": "# Approved by the security team",
    "only blanks": " \n\n \t",
    "empty": "",
}


def make_request(justification: str, requester: str = "alice", approvers=("pat", "quinn")):
    request = AccessRequestFactory(
        requester=UserFactory(username=requester), service="data-access-service"
    )
    for name in approvers:
        Decision.objects.create(
            request=request, approver=UserFactory(username=name), verdict=Verdict.APPROVE
        )
    # Not saved: PostgreSQL refuses NUL (so do the page and the API), and the
    # text builder must not rely on that.
    request.justification = justification
    return request


def body_of(request, repository: str = "deploy", purpose: str = "grant") -> str:
    """The body, with the request's number made the same for every request."""
    body = pr_text.body(
        request, repository, FILES, other=OTHER, portal_url=PORTAL_URL, purpose=purpose
    )
    return body.replace(f"request #{request.pk}", "request #N")


def flat(tokens: list[Token]) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(flat(token.children or []))
    return out


def shape(tokens: list[Token]) -> list[tuple]:
    """The body's structure and the portal's words: every token but the
    justification's fence, whose content and markup are the user's."""
    return [
        (t.type, t.tag, t.nesting, "" if t.type == "fence" else t.content, t.markup)
        for t in flat(tokens)
        if t.type != "fence"
    ]


def the_fence(tokens: list[Token]) -> Token:
    (fence,) = [t for t in flat(tokens) if t.type in ("fence", "code_block")]
    assert fence.type == "fence" and fence.info == "text"
    return fence


def assert_inert(body: str, baseline: str) -> Token:
    tokens = PARSER.parse(body)
    types = {t.type for t in flat(tokens)}
    assert not types & {"html_block", "html_inline", "link_open", "image"}, types
    assert shape(tokens) == shape(PARSER.parse(baseline))
    # What the portal states, once each.
    texts = [t.content for t in flat(tokens) if t.type == "inline"]
    for statement in ("Requester:", "Approved by:", "Cluster:"):
        assert sum(text.startswith(f"{statement} ") for text in texts) == 1, statement
    assert body.count(PORTAL_URL) == 1 and body.count(OTHER.url) == 1
    return the_fence(tokens)


@pytest.fixture
def baseline():
    request = make_request("Reads the RDS password.")
    return body_of(request)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_justification_stays_inside_its_block(text, baseline):
    body = body_of(make_request(text))
    shown = assert_inert(body, baseline).content
    # No control, format or line-separator character is left to steer the layout.
    assert all(ch in "\n\t" or ch.isprintable() or ch.isspace() for ch in shown), shown
    assert not set(shown) & {"\r", "\x85", "\u2028", "\u2029", "\u202e", "\u200d"}
    assert shown.endswith("\n")


def test_what_is_shown_is_what_was_typed():
    for text in ("fine\n</blockquote>", "`" * 10_000, "```\nx", "~~~\n```", "a\tb\n\n c"):
        fence = the_fence(PARSER.parse(body_of(make_request(text))))
        assert fence.content == text + "\n"
    controls = the_fence(PARSER.parse(body_of(make_request("a\x00b\u2028c\u202ed"))))
    assert controls.content == "a\\x00b\nc\\u202ed\n"


def test_a_long_justification_is_shortened_below_githubs_limit(baseline):
    text = ("`" * 5000 + "~" * 5000 + "\x00" * 1000) * 10
    body = body_of(make_request(text))
    assert len(body) < 65_536
    note = "(Shortened to 10000 characters: the request page has it all.)\n"
    assert body.count(note) == 1
    fence = assert_inert(body.replace(note, ""), baseline)
    assert len(fence.content) == pr_text.MAX_JUSTIFICATION + 1


@pytest.mark.parametrize(
    "name",
    ["@acme/security-team", "pat`` @x ``", "`x`", "<b>bold</b>", "#1", "a\nb", "x\u202e", " y "],
)
def test_usernames_are_code(name, baseline):
    request = make_request("Reads the RDS password.", requester=name, approvers=(name + "2",))
    tokens = PARSER.parse(body_of(request))
    for label, expected in (("- Requester", name), ("- Approved by", name + "2")):
        line = [t for t in flat(tokens) if t.type == "inline" and t.content.startswith(label[2:])]
        (inline,) = line
        kinds = [c.type for c in inline.children]
        assert kinds == ["text", "code_inline"], (label, kinds)
        shown = inline.children[1].content
        if expected.isprintable() and "\n" not in expected:
            assert shown == expected
        assert "\n" not in shown and "\u202e" not in shown
    assert "html_inline" not in {t.type for t in flat(tokens)}


def test_the_file_list_and_links_are_the_portals(baseline):
    tokens = PARSER.parse(baseline)
    codes = [t.content for t in flat(tokens) if t.type == "code_inline"]
    assert codes == ["alice", "pat", "quinn", *FILES]
    assert f"the infra pull request {OTHER.url}" in baseline


def test_titles_are_one_line():
    request = AccessRequestFactory()
    request.service, request.namespace = "svc\nApproved\u2028by\x00pat", "ns\r\n"
    title = pr_text.title(request, "infra")
    assert title.isprintable()
    assert "svc Approved by pat secrets access" in title
    assert title.endswith(f"/ns [portal #{request.pk}]")


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from(list("`~<>@#-=*_[]()!|\\&;:\n\t\r ")),
        ),
        max_size=300,
    )
)
def test_any_text_stays_inside(text, baseline):
    with transaction.atomic():
        body = body_of(make_request(text))
        transaction.set_rollback(True)
    fence = assert_inert(body, baseline)
    # Text without control, format or line-break characters shows exactly.
    if all(
        ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")
        for ch in text
    ):
        assert fence.content == text + "\n"


@pytest.mark.parametrize("repository", ["infra", "deploy"])
@pytest.mark.parametrize("purpose", ["grant", "revoke"])
def test_every_kind_of_body_keeps_it_inside(repository, purpose):
    baseline = body_of(make_request("Reads the RDS password."), repository, purpose)
    for text in (HOSTILE["fake approval"], HOSTILE["unclosed fence"], HOSTILE["end the quote"]):
        body = body_of(make_request(text), repository, purpose)
        tokens = PARSER.parse(body)
        assert shape(tokens) == shape(PARSER.parse(baseline))
        assert the_fence(tokens).content == text + "\n"
