"""A local git pull request's page: login, its text and diff read from the
repository, coloured on the server, nothing the repository holds ever
becoming markup, and a constant number of queries."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from secrets_app.models import PullRequest
from secrets_app.requests import provisioning
from tests.factories import ClusterFactory
from tests.support.access_requests import approve, make_pending

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture
def local(settings, tmp_path):
    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    return ClusterFactory(name="janus-local", repo_backend="local")


@pytest.fixture
def pulls(local, requester, approver):
    """A grant's two pull requests, open in local git."""
    request = make_pending(local, requester=requester)
    approve(request, approver)  # no worker: open them inline
    provisioning.open_pull_requests(request.pk)
    return {p.repository: p for p in PullRequest.objects.filter(request=request)}


def page_of(client, pull):
    return client.get(reverse("pull-request-detail", args=[pull.pk]))


def backend(pull):
    return LocalGitBackend(pull.request.cluster.repository(pull.repository))


def test_it_needs_login(pulls):
    response = page_of(Client(), pulls["infra"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_pull_request_is_404(client, requester):
    client.force_login(requester)
    assert client.get(reverse("pull-request-detail", args=[999_999])).status_code == 404


def test_it_shows_title_body_and_the_highlighted_diff_of_every_file(client, requester, pulls):
    client.force_login(requester)
    deploy = pulls["deploy"]
    html = page_of(client, deploy).content.decode()
    record = backend(deploy).read_pull_request(deploy.number)
    assert record.title in html
    assert "merge" in html.lower()
    for path in deploy.paths:
        assert f"<code>{path}</code>" in html
    # YAML, coloured by Pygments: a key is a name tag ("nt"), in an added row.
    assert '<tr class="row-add">' in html
    assert '<span class="nt">apiVersion</span>' in html
    assert 'href="/static/portal/pull_request.css"' in html or "pull_request" in html


def test_terraform_is_highlighted_too(client, requester, pulls):
    client.force_login(requester)
    html = page_of(client, pulls["infra"]).content.decode()
    assert any(p.endswith(".tf") for p in pulls["infra"].paths)
    # HCL: "resource" is a reserved keyword ("kr"), strings are "s2".
    assert '<span class="kr">resource</span>' in html
    assert '<span class="s2">' in html


def test_a_changed_file_shows_old_and_new_line_numbers(client, requester, pulls):
    """Someone pushes an edit of README.md onto the branch: one line gone,
    one added, with context."""
    deploy = pulls["deploy"]
    repo = backend(deploy)
    files = repo.read_files(deploy.branch)
    files["README.md"] = files["README.md"] + "Second line.\n"
    repo.ensure_pull_request(
        branch=deploy.branch, base="main", files=files, title="same", body="same"
    )
    client.force_login(requester)
    html = page_of(client, deploy).content.decode()
    assert re.search(r'<span class="badge diff-modified">modified</span>', html)
    assert re.search(r'<tr class="row-ctx"><td class="num">1</td><td class="num">1</td>', html), (
        "the unchanged first line keeps its number on both sides"
    )
    assert re.search(r'<tr class="row-add"><td class="num"></td><td class="num">2</td>', html)


def test_nothing_from_the_repository_becomes_markup(client, requester, pulls):
    """A file's content and the pull request's body holding <script> are shown
    as text: escaped by Pygments for YAML, by the template for the body."""
    deploy = pulls["deploy"]
    repo = backend(deploy)
    files = repo.read_files(deploy.branch)
    files.pop("README.md")
    files["evil.yaml"] = f"key: {SCRIPT}\n# {SCRIPT}\n"
    files["notes.txt"] = f"{SCRIPT}\n"
    repo.ensure_pull_request(branch=deploy.branch, base="main", files=files, title="t", body="b")
    repo.update_pull_request_body(deploy.number, f"Look {SCRIPT} <img src=x onerror=alert(1)>")
    client.force_login(requester)
    html = page_of(client, deploy).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html  # body, notes.txt
    # Pygments escapes <, > and & (quotes need no escaping in an element's text).
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;</span>" in html


def test_its_queries_do_not_grow_with_the_files(
    client, requester, pulls, django_assert_num_queries
):
    client.force_login(requester)
    deploy = pulls["deploy"]
    # Session, user, the pull request with its request and cluster, its
    # siblings, whether the user is of the platform team (the merge button).
    with django_assert_num_queries(5):
        assert page_of(client, deploy).status_code == 200
    repo = backend(deploy)
    files = repo.read_files(deploy.branch)
    files.update({f"extra/{i}.yaml": f"n: {i}\n" for i in range(20)})
    repo.ensure_pull_request(branch=deploy.branch, base="main", files=files, title="t", body="b")
    with django_assert_num_queries(5):
        assert "extra/19.yaml" in page_of(client, deploy).content.decode()


def test_the_merge_button_is_there_for_the_platform_team(client, approver, requester, pulls):
    client.force_login(approver)
    html = page_of(client, pulls["infra"]).content.decode()
    action = reverse("pull-request-merge", args=[pulls["infra"].pk])
    assert f'action="{action}"' in html
    client.force_login(requester)
    assert f'action="{action}"' not in page_of(client, pulls["infra"]).content.decode()


def test_the_request_page_links_local_pull_requests_to_their_pages(client, requester, pulls):
    client.force_login(requester)
    request = pulls["infra"].request
    html = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    for pull in pulls.values():
        assert f'href="{reverse("pull-request-detail", args=[pull.pk])}"' in html
    assert 'href=""' not in html


def test_a_merged_pull_request_still_shows_what_it_changed(client, approver, pulls):
    infra = pulls["infra"]
    provisioning.merge_local_pull_request(infra, actor=approver)
    client.force_login(approver)
    html = page_of(client, infra).content.decode()
    assert "Merged" in html
    assert '<span class="kr">resource</span>' in html
    assert f'action="{reverse("pull-request-merge", args=[infra.pk])}"' not in html


def test_the_body_s_markdown_is_rendered_around_escaped_text(client, requester, pulls):
    deploy = pulls["deploy"]
    backend(deploy).update_pull_request_body(
        deploy.number,
        "**Merge this after** the infra one.\n\n- Requester: `alice`\n\n"
        '```text\n<b>typed</b>\n```\n\nSee https://example.com/a?x=1&y=2 `" onclick="x`',
    )
    client.force_login(requester)
    html = page_of(client, deploy).content.decode()
    assert "<strong>Merge this after</strong>" in html
    assert "<li>Requester: <code>alice</code></li>" in html
    assert "<pre><code>&lt;b&gt;typed&lt;/b&gt;</code></pre>" in html
    assert '<a href="https://example.com/a?x=1&amp;y=2">' in html
    assert "<code>&quot; onclick=&quot;x</code>" in html
