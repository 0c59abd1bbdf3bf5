"""The PyGithub backend against the loopback fake: request budgets,
idempotency, error mapping, retries, and no token in any error text."""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable

import pytest

from fakes.github_api import FakeGitHub
from secrets_app.integrations.errors import IntegrationError, PermanentError, RetryableError
from secrets_app.integrations.github import GitHubAuth, GitHubBackend
from secrets_app.integrations.repos import PullRequestRef, RepoBackend, RetryPolicy
from tests.repos.repos_support import BASE_FILES, OWNER, TOKEN

Make = Callable[..., GitHubBackend]


def rendered(n: int) -> dict[str, str]:
    return {f"kilonova/svc-{i}/iam.tf": f'resource "x" "y{i}" {{}}\n' for i in range(n)}


def ensure(backend: GitHubBackend, files: dict[str, str], **kw: object) -> PullRequestRef:
    args = {"branch": "portal/req-7", "base": "main", "files": files, "title": "Grant", "body": "b"}
    return backend.ensure_pull_request(**{**args, **kw})  # type: ignore[arg-type]


def leaks(exc: BaseException) -> bool:
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)
    return TOKEN in text


@pytest.mark.parametrize("n", [1, 5, 20])
def test_it_opens_a_pull_request_in_at_most_five_requests(fake: FakeGitHub, github: Make, n: int):
    base_head = fake.branch_commit(OWNER, "infra", "main")["sha"]
    files = rendered(n)

    ref = ensure(github(), files, delete=["modules/old.tf"])

    assert len(fake.requests_for(OWNER, "infra")) <= 5
    assert ref.created and ref.state == "open" and ref.number == 1
    assert ref.url.endswith("/acme/infra/pull/1")
    assert fake.branch_files(OWNER, "infra", "portal/req-7") == {"README.md": "# infra\n", **files}
    head = fake.branch_commit(OWNER, "infra", "portal/req-7")
    assert head["parents"] == [base_head] and ref.head_sha == head["sha"]
    pull = fake.pull(OWNER, "infra", 1)
    assert (pull["title"], pull["body"], pull["base"]["ref"]) == ("Grant", "b", "main")


def test_a_rerun_changes_nothing_in_at_most_two_requests_per_repository(
    fake: FakeGitHub, github: Make
):
    infra, deploy = github("infra"), github("deploy")
    first = [ensure(infra, rendered(5)), ensure(deploy, {"k8s/sa.yaml": "kind: ServiceAccount\n"})]
    heads = [fake.branch_commit(OWNER, r, "portal/req-7")["sha"] for r in ("infra", "deploy")]
    fake.clear_log()

    again = [ensure(infra, rendered(5)), ensure(deploy, {"k8s/sa.yaml": "kind: ServiceAccount\n"})]

    for repo in ("infra", "deploy"):
        calls = fake.requests_for(OWNER, repo)
        assert len(calls) <= 2
        assert all(c.path == "/api/graphql" for c in calls)  # reads only
    assert [r.number for r in again] == [r.number for r in first]
    assert not any(r.created for r in again)
    assert [
        fake.branch_commit(OWNER, r, "portal/req-7")["sha"] for r in ("infra", "deploy")
    ] == heads


def test_a_rerun_does_not_undo_the_link_to_the_other_pull_request(fake: FakeGitHub, github: Make):
    backend = github()
    ref = ensure(backend, rendered(1))
    fake.clear_log()
    backend.update_pull_request_body(ref.number, "b\n\nDeploy side: acme/deploy#1")
    assert [(c.method, c.status) for c in fake.log] == [("PATCH", 200)]

    ensure(backend, rendered(1))

    assert fake.pull(OWNER, "infra", ref.number)["body"].endswith("acme/deploy#1")


def test_new_files_rewrite_the_branch_as_one_commit_on_the_base(fake: FakeGitHub, github: Make):
    backend = github()
    first = ensure(backend, rendered(3))
    fake.clear_log()

    second = ensure(backend, {"kilonova/other.tf": "# changed\n"}, delete=["README.md"])

    assert (second.number, second.created) == (first.number, False)
    assert second.head_sha != first.head_sha
    assert len(fake.requests_for(OWNER, "infra")) <= 4
    head = fake.branch_commit(OWNER, "infra", "portal/req-7")
    assert head["parents"] == [fake.branch_commit(OWNER, "infra", "main")["sha"]]
    assert fake.branch_files(OWNER, "infra", "portal/req-7") == {
        "modules/old.tf": BASE_FILES["modules/old.tf"],
        "kilonova/other.tf": "# changed\n",
    }


def test_a_closed_pull_request_is_replaced_by_a_new_one(fake: FakeGitHub, github: Make):
    backend = github()
    ensure(backend, rendered(2))
    fake.close_pull(OWNER, "infra", 1)
    fake.clear_log()

    ref = ensure(backend, rendered(2))

    assert (ref.number, ref.created, ref.state) == (2, True, "open")
    assert len(fake.log) <= 2  # the branch was already right: read, then open


@pytest.mark.parametrize("end", ["open", "merged", "closed"])
def test_it_reads_the_pull_request_state_back(fake: FakeGitHub, github: Make, end: str):
    backend = github()
    ref = ensure(backend, rendered(1))
    if end == "merged":
        fake.merge_pull(OWNER, "infra", ref.number)
    elif end == "closed":
        fake.close_pull(OWNER, "infra", ref.number)
    fake.clear_log()

    read = backend.get_pull_request(ref.number)

    assert (read.number, read.state, read.head_sha, read.url) == (
        ref.number,
        end,
        ref.head_sha,
        ref.url,
    )
    assert len(fake.log) == 1
    if end == "merged":
        assert "kilonova/svc-0/iam.tf" in fake.branch_files(OWNER, "infra", "main")


def test_a_502_is_retried_by_the_policy_and_then_succeeds(fake: FakeGitHub, github: Make):
    backend = github()
    fake.inject("POST", r"/git/commits$", status=502)
    with pytest.raises(RetryableError) as failed:
        ensure(backend, rendered(2))
    assert failed.value.status == 502 and failed.value.retry_after is None

    fake.inject("POST", r"/pulls$", status=502)
    sleeps: list[float] = []
    policy = RetryPolicy(base=1.0, cap=10.0, max_attempts=3)
    ref = policy.call(
        lambda: ensure(backend, rendered(2)), sleep=sleeps.append, rng=random.Random(1)
    )

    assert ref.state == "open" and ref.number == 1
    assert len(sleeps) == 1 and 0.0 <= sleeps[0] <= 1.0
    assert fake.branch_files(OWNER, "infra", "portal/req-7") == {"README.md": "# infra\n",
                                                                 "modules/old.tf": "# to be deleted\n",
                                                                 **rendered(2)}  # fmt: skip


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_keeps_retry_after(fake: FakeGitHub, github: Make, status: int):
    fake.rate_limit_next("POST", r"^/api/graphql$", retry_after=7, status=status)
    started = time.monotonic()

    with pytest.raises(RetryableError) as caught:
        ensure(github(), rendered(1))

    assert time.monotonic() - started < 2  # PyGithub did not sleep on it
    assert caught.value.status == status and caught.value.retry_after == 7
    assert "secondary rate limit" in str(caught.value)
    assert RetryPolicy(base=1.0, cap=4.0).delay(1, caught.value, rng=random.Random(0)) == 7
    sleeps: list[float] = []
    fake.rate_limit_next("POST", r"^/api/graphql$", retry_after=3, status=status)
    RetryPolicy(base=0.5).call(lambda: ensure(github(), rendered(1)), sleep=sleeps.append)
    assert sleeps == [3.0]


def test_a_missing_repository_fails_permanently_and_quickly(fake: FakeGitHub, github: Make):
    started = time.monotonic()
    with pytest.raises(PermanentError) as caught:
        ensure(github("nope"), rendered(1))
    assert time.monotonic() - started < 2
    assert caught.value.status == 404 and "acme/nope" in str(caught.value)
    assert len(fake.log) == 1


def test_a_missing_base_branch_fails_permanently(fake: FakeGitHub, github: Make):
    with pytest.raises(PermanentError, match="base branch 'trunk' not found"):
        ensure(github(), rendered(1), base="trunk")


def test_a_bad_token_fails_permanently_without_echoing_it(fake: FakeGitHub, github: Make):
    wrong = "ghp_" + "W" * 36
    with pytest.raises(PermanentError) as caught:
        ensure(github(token=wrong), rendered(1))
    assert caught.value.status == 401 and "Bad credentials" in str(caught.value)
    assert wrong not in "".join(traceback.format_exception(caught.value))


def test_a_validation_error_is_permanent_with_the_remote_message(fake: FakeGitHub, github: Make):
    fake.inject("POST", r"/pulls$", status=422, message="Validation Failed: head sha unknown")
    with pytest.raises(PermanentError, match="422 Validation Failed: head sha unknown"):
        ensure(github(), rendered(1))


def test_a_timeout_is_retryable(fake: FakeGitHub, github: Make):
    fake.inject("POST", r"^/api/graphql$", status=None, delay=1.5)
    with pytest.raises(RetryableError, match="Timeout"):
        ensure(github(timeout=1), rendered(1))


def test_a_refused_connection_is_retryable():
    with FakeGitHub(token=TOKEN) as gone:
        url = gone.base_url
    backend = GitHubBackend(f"{OWNER}/infra", GitHubAuth(token=TOKEN), base_url=url, timeout=2)
    with pytest.raises(RetryableError, match="ConnectionError"):
        ensure(backend, rendered(1))


def test_the_token_appears_in_no_error_repr_or_log(
    fake: FakeGitHub, github: Make, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    backend = github()
    errors: list[IntegrationError] = []
    for method, path, kwargs in [
        ("POST", r"^/api/graphql$", {"status": 401, "message": f"Bad credentials {TOKEN}"}),
        ("POST", r"/git/trees$", {"status": 502}),
        ("POST", r"/git/refs$", {"status": 403, "retry_after": 1}),
        ("POST", r"/pulls$", {"status": 422, "message": f"token {TOKEN} is not allowed"}),
    ]:
        fake.inject(method, path, **kwargs)
        with pytest.raises(IntegrationError) as caught:
            ensure(backend, rendered(1))
        errors.append(caught.value)
    ensure(backend, rendered(1))

    assert len(errors) == 4
    assert not any(leaks(e) for e in errors)
    assert TOKEN not in repr(backend) and TOKEN not in repr(GitHubAuth(token=TOKEN))
    assert TOKEN not in caplog.text


def test_it_authenticates_as_a_github_app_installation():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with FakeGitHub(token=TOKEN, app_id=4242) as fake:
        fake.create_repo(OWNER, "infra")
        auth = GitHubAuth(app_id=4242, private_key=pem, installation_id=77)
        backend = GitHubBackend(f"{OWNER}/infra", auth, base_url=fake.base_url)

        ref = ensure(backend, rendered(2))

        assert ref.created
        assert fake.log[0].path == "/api/v3/app/installations/77/access_tokens"
        assert len(fake.requests_for(OWNER, "infra")) <= 5
        assert pem not in repr(auth) and "PRIVATE KEY" not in repr(backend)


def test_bad_paths_are_refused_before_any_request(fake: FakeGitHub, github: Make):
    for path in ["../escape.tf", "/abs.tf", ".git/config", "a//b", "dir/"]:
        with pytest.raises(PermanentError):
            ensure(github(), {path: "x"})
    assert fake.log == []


def test_the_backend_satisfies_the_interface(github: Make):
    assert isinstance(github(), RepoBackend)


@pytest.mark.parametrize("delete_branch", [False, True])
def test_a_rerun_after_the_merge_writes_nothing_in_one_request(
    fake: FakeGitHub, github: Make, delete_branch: bool
):
    """The branch's pull request merged (and GitHub may have deleted the
    branch): the one branch query finds it; no tree, commit or new PR."""
    backend = github()
    first = ensure(backend, rendered(2))
    fake.merge_pull(OWNER, "infra", first.number)
    if delete_branch:
        fake.delete_branch(OWNER, "infra", "portal/req-7")
    fake.clear_log()

    again = ensure(backend, rendered(2))

    assert (again.number, again.state, again.created) == (first.number, "merged", False)
    assert [(e.method, e.path) for e in fake.requests_for(OWNER, "infra")] == [
        ("POST", "/api/graphql")
    ]
    assert len(fake.pulls_of(OWNER, "infra")) == 1


@pytest.mark.parametrize(
    ("kind", "message", "retryable"),
    [
        ("RATE_LIMITED", "API rate limit exceeded for user ID 1.", True),
        ("", "Something went wrong while executing your query. This may be a timeout.", True),
        ("FORBIDDEN", "Resource not accessible by integration", False),
    ],
)
def test_graphql_error_bodies_are_classified(
    fake: FakeGitHub, github: Make, kind: str, message: str, retryable: bool
):
    """PyGithub raises 400 for any GraphQL error body; rate limits and
    timeouts are retried (a minute, unless GitHub says when), others are not."""
    fake.graphql_error_next(type=kind, message=message)
    with pytest.raises(IntegrationError) as failed:
        ensure(github(), rendered(1))
    assert isinstance(failed.value, RetryableError) is retryable
    assert message in str(failed.value)
    if retryable:
        assert failed.value.retry_after == 60.0
