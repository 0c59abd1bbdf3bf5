"""What the portal's page of a local pull request reads: its title, body,
and the diff from where its branch left the base to its head, with each
file's text before and after; the same once merged (by the portal's button
or by hand), when the base moved on since, and 404 for an unknown number."""

from __future__ import annotations

import pytest

from secrets_app.integrations.errors import PermanentError
from secrets_app.integrations.localgit import LocalGitBackend
from tests.repos.test_repos_localgit import ensure, git

FILES = {"kilonova/iam.tf": 'resource "aws_iam_role" "x" {}\n', "README.md": "# infra, changed\n"}


def opened(repo: LocalGitBackend) -> int:
    return ensure(repo, FILES, delete=["modules/old.tf"], title="Grant x", body="**b**").number


def check(contents) -> None:
    assert (contents.title, contents.body, contents.base) == ("Grant x", "**b**", "main")
    assert contents.changes == [
        ("M", "README.md"),
        ("A", "kilonova/iam.tf"),
        ("D", "modules/old.tf"),
    ]
    assert contents.before == {"README.md": "# infra\n", "modules/old.tf": "# to be deleted\n"}
    assert contents.after == {
        "README.md": "# infra, changed\n",
        "kilonova/iam.tf": 'resource "aws_iam_role" "x" {}\n',
    }
    assert contents.diff.count("diff --git ") == 3
    assert "+# infra, changed" in contents.diff and "-# to be deleted" in contents.diff


def test_an_open_pull_request(local_repo: LocalGitBackend):
    check(local_repo.read_pull_request(opened(local_repo)))


def test_the_base_moving_on_does_not_enter_the_diff(local_repo: LocalGitBackend):
    number = opened(local_repo)
    ensure(local_repo, {"other.tf": "# someone else\n"}, branch="other", title="o")
    local_repo.merge_pull_request(number + 1)
    check(local_repo.read_pull_request(number))


def test_merged_by_the_portal(local_repo: LocalGitBackend):
    number = opened(local_repo)
    local_repo.merge_pull_request(number)
    contents = local_repo.read_pull_request(number)
    assert contents.state == "merged"
    check(contents)


def test_merged_by_hand(local_repo: LocalGitBackend):
    number = opened(local_repo)
    git(local_repo, "update-ref", "refs/heads/main", "refs/heads/portal/req-7")  # fast-forward
    contents = local_repo.read_pull_request(number)
    assert local_repo.get_pull_request(number).state == "merged"
    check(contents)


def test_an_unknown_number(local_repo: LocalGitBackend):
    with pytest.raises(PermanentError, match="no pull request #9") as raised:
        local_repo.read_pull_request(9)
    assert raised.value.status == 404
