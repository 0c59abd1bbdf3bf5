"""Reading a branch's definition files (``read_text_files``): the same answer
from both backends, and on GitHub two requests whatever the repository's size."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fakes.github_api import FakeGitHub
from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.integrations.github import GitHubBackend
from secrets_app.integrations.localgit import LocalGitBackend, init_demo_repository
from tests.repos.repos_support import OWNER, TOKEN

Make = Callable[..., GitHubBackend]

FILES = {
    "README.md": "# infra\n",
    "iam/app.tf": 'resource "aws_iam_role" "app" {\n  name = "app"\n}\n',
    "k8s/sa.yaml": "kind: ServiceAccount\n",
    "k8s/UPPER.YML": "kind: ConfigMap\n",
    "k8s/big.yaml": "x: " + "y" * 2_000 + "\n",
    "scripts/deploy.sh": "#!/bin/sh\n",
    "café/naïve.yaml": "kind: Namespace\n",
}
WANTED = {
    "iam/app.tf": FILES["iam/app.tf"],
    "k8s/sa.yaml": FILES["k8s/sa.yaml"],
    "k8s/UPPER.YML": FILES["k8s/UPPER.YML"],
    "café/naïve.yaml": FILES["café/naïve.yaml"],
}


def many(n: int) -> dict[str, str]:
    files = {f"iam/team-{i}/role.tf": f'resource "aws_iam_role" "r{i}" {{}}\n' for i in range(n)}
    files |= {f"k8s/ns-{i}/sa.yaml": f"kind: ServiceAccount # {i}\n" for i in range(n)}
    return files


def test_both_backends_read_the_definitions_and_nothing_else(
    fake: FakeGitHub, github: Make, tmp_path
):
    fake.create_repo(OWNER, "infra", files=FILES)
    local = LocalGitBackend(init_demo_repository(tmp_path / "infra.git", files=FILES))

    assert github().read_text_files("main", max_bytes=1_000) == WANTED
    assert local.read_text_files("main", max_bytes=1_000) == WANTED


@pytest.mark.parametrize("n", [1, 400])
def test_github_reads_a_branch_in_two_requests_whatever_its_size(
    fake: FakeGitHub, github: Make, n: int
):
    fake.create_repo(OWNER, "infra", files=many(n))
    fake.clear_log()

    read = github().read_text_files("main")

    assert len(read) == 2 * n
    requests = [(e.method, e.path.split("/")[-2], e.status) for e in fake.log]
    assert len(requests) == 2, requests
    assert requests[0] == ("GET", "tarball", 302) and requests[1][2] == 200


def test_a_missing_branch_is_a_permanent_error_on_both_backends(
    fake: FakeGitHub, github: Make, local_repo: LocalGitBackend
):
    with pytest.raises(PermanentError) as on_github:
        github().read_text_files("no-such-branch")
    assert on_github.value.status == 404
    with pytest.raises(PermanentError):
        local_repo.read_text_files("no-such-branch")


def test_a_failing_download_is_retryable_and_names_no_token(fake: FakeGitHub, github: Make):
    fake.inject("GET", r"^/_codeload/", status=503)
    with pytest.raises(RetryableError) as failed:
        github().read_text_files("main")
    assert "token" not in str(failed.value) and TOKEN not in str(failed.value)

    fake.inject("GET", r"/tarball/", status=403, message="Resource not accessible")
    with pytest.raises(PermanentError):
        github().read_text_files("main")
