"""The local git backend on real repositories in a temporary directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secrets_app.integrations.errors import PermanentError
from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from secrets_app.integrations.repos import MergeableRepoBackend, PullRequestRef

FILES = {"kilonova/iam.tf": 'resource "aws_iam_role" "x" {}\n', "kilonova/policy.json": "{}\n"}


def git(repo: LocalGitBackend, *args: str) -> str:
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["git", "-C", str(repo.path), *args], capture_output=True, env=env)
    return out.stdout.decode().strip()


def ensure(repo: LocalGitBackend, files: dict[str, str], **kw: object) -> PullRequestRef:
    args = {"branch": "portal/req-7", "base": "main", "files": files, "title": "Grant", "body": "b"}
    return repo.ensure_pull_request(**{**args, **kw})  # type: ignore[arg-type]


def test_it_opens_a_pull_request_as_one_commit_on_the_base(local_repo: LocalGitBackend):
    base_head = git(local_repo, "rev-parse", "main")

    ref = ensure(local_repo, FILES, delete=["modules/old.tf"])

    assert (ref.number, ref.state, ref.created) == (1, "open", True)
    assert ref.url == f"{local_repo.path.as_uri()}#pull/1"
    assert local_repo.read_files("portal/req-7") == {"README.md": "# infra\n", **FILES}
    assert local_repo.commits_between("main", "portal/req-7") == [ref.head_sha]
    assert git(local_repo, "rev-parse", "portal/req-7^") == base_head
    assert git(local_repo, "log", "-1", "--format=%an <%ae>", "portal/req-7") == (
        "Secrets Access Portal <portal@localhost>"
    )


def test_a_rerun_changes_nothing(local_repo: LocalGitBackend):
    first = ensure(local_repo, FILES)
    refs_before = git(local_repo, "for-each-ref")
    records = (local_repo.path / "portal" / "pulls.json").read_text()

    again = ensure(local_repo, dict(reversed(FILES.items())))

    assert again == PullRequestRef(first.number, first.url, "open", first.head_sha, created=False)
    assert git(local_repo, "for-each-ref") == refs_before
    assert (local_repo.path / "portal" / "pulls.json").read_text() == records


def test_other_files_rewrite_the_branch_as_one_commit_on_the_base(local_repo: LocalGitBackend):
    first = ensure(local_repo, FILES)

    second = ensure(local_repo, {"kilonova/other.tf": "# v2\n"}, delete=["README.md"])

    assert (second.number, second.created) == (first.number, False)
    assert second.head_sha != first.head_sha
    assert local_repo.commits_between("main", "portal/req-7") == [second.head_sha]
    assert local_repo.read_files("portal/req-7") == {
        "modules/old.tf": "# to be deleted\n",
        "kilonova/other.tf": "# v2\n",
    }
    assert local_repo.get_pull_request(first.number).head_sha == second.head_sha


def test_a_commit_pushed_on_top_is_replaced(local_repo: LocalGitBackend):
    ref = ensure(local_repo, FILES)
    tree = git(local_repo, "rev-parse", "portal/req-7^{tree}")
    extra = git(local_repo, "commit-tree", tree, "-p", ref.head_sha, "-m", "manual fix")
    git(local_repo, "update-ref", "refs/heads/portal/req-7", extra)

    again = ensure(local_repo, FILES)

    assert local_repo.commits_between("main", "portal/req-7") == [again.head_sha]


def test_merge_makes_a_merge_commit_on_the_base(local_repo: LocalGitBackend):
    ref = ensure(local_repo, FILES, delete=["modules/old.tf"])
    base_before = git(local_repo, "rev-parse", "main")

    merged = local_repo.merge_pull_request(ref.number)

    assert merged.state == "merged" and merged.head_sha == ref.head_sha
    parents = git(local_repo, "log", "-1", "--format=%P", "main").split()
    assert parents == [base_before, ref.head_sha]
    assert local_repo.read_files("main") == {"README.md": "# infra\n", **FILES}
    assert local_repo.get_pull_request(ref.number).state == "merged"
    with pytest.raises(PermanentError, match="is merged"):
        local_repo.merge_pull_request(ref.number)


def test_close_leaves_the_base_alone_and_a_rerun_opens_a_new_one(local_repo: LocalGitBackend):
    ref = ensure(local_repo, FILES)
    base_before = git(local_repo, "rev-parse", "main")

    closed = local_repo.close_pull_request(ref.number)
    reopened = ensure(local_repo, FILES)

    assert closed.state == "closed" and git(local_repo, "rev-parse", "main") == base_before
    assert local_repo.get_pull_request(ref.number).state == "closed"
    assert (reopened.number, reopened.created, reopened.head_sha) == (2, True, ref.head_sha)


def test_a_branch_merged_by_hand_reads_as_merged(local_repo: LocalGitBackend):
    ref = ensure(local_repo, FILES)
    git(local_repo, "update-ref", "refs/heads/main", ref.head_sha)  # a fast-forward push

    assert local_repo.get_pull_request(ref.number).state == "merged"


def test_the_body_can_be_updated(local_repo: LocalGitBackend):
    ref = ensure(local_repo, FILES)
    local_repo.update_pull_request_body(ref.number, "see acme/deploy#1")
    ensure(local_repo, FILES)
    assert '"body": "see acme/deploy#1"' in (local_repo.path / "portal" / "pulls.json").read_text()


def test_paths_with_odd_characters_round_trip(local_repo: LocalGitBackend):
    odd = {
        "dir with space/file name.tf": "a\n",
        'quote"d/back\\slash.yaml': "b\n",
        "tab\there/ünïcødé-名前.txt": "c\n",
        "new\nline.txt": "d",
        "-leading-dash.txt": "e\n",
        "#hash;semi&amp$dollar'quote.txt": "f\n",
        "no-newline-at-end": "g",
    }

    ensure(local_repo, odd, delete=["modules/old.tf"])
    again = ensure(local_repo, odd, delete=["modules/old.tf"])

    assert not again.created
    assert local_repo.read_files("portal/req-7") == {"README.md": "# infra\n", **odd}


@pytest.mark.parametrize("path", ["../escape.tf", "/abs.tf", ".git/config", "a//b", "dir/", ""])
def test_bad_paths_are_refused(local_repo: LocalGitBackend, path: str):
    with pytest.raises(PermanentError):
        ensure(local_repo, {path: "x"})
    assert git(local_repo, "for-each-ref", "--format=%(refname)") == "refs/heads/main"


def test_bad_branch_names_and_bases_are_refused(local_repo: LocalGitBackend):
    with pytest.raises(PermanentError, match="invalid branch name"):
        ensure(local_repo, FILES, branch="bad..name")
    with pytest.raises(PermanentError, match="base branch 'trunk' not found"):
        ensure(local_repo, FILES, base="trunk")
    with pytest.raises(PermanentError, match="no pull request #9"):
        local_repo.get_pull_request(9)


def test_the_machine_git_config_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Someone Else\n[commit]\n\tgpgsign = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))
    repo = LocalGitBackend(init_demo_repository(tmp_path / "r.git"))

    ref = ensure(repo, FILES)
    repo.merge_pull_request(ref.number)

    assert git(repo, "log", "-1", "--format=%an", "main") == "Secrets Access Portal"


def test_a_work_tree_repository_works_too(tmp_path: Path):
    repo = LocalGitBackend(init_demo_repository(tmp_path / "deploy", bare=False))
    ref = ensure(repo, {"k8s/sa.yaml": "kind: ServiceAccount\n"})
    assert repo.merge_pull_request(ref.number).state == "merged"
    assert (repo.path / ".git" / "portal" / "pulls.json").exists()


def test_the_backend_satisfies_the_interface(local_repo: LocalGitBackend):
    assert isinstance(local_repo, MergeableRepoBackend)
    assert repr(local_repo) == f"LocalGitBackend({local_repo.path})"
