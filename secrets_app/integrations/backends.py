"""The repository backend for each cluster and repository, from settings.

GitHub clusters name ``owner/name`` repositories (or take the defaults) and
authenticate with a token or a GitHub App from the environment; local
clusters name folders of real git repositories (the demo's).
"""

from __future__ import annotations

from django.conf import settings

from secrets_app.integrations.errors import PermanentError
from secrets_app.integrations.github import GitHubAuth, GitHubBackend, build_client
from secrets_app.integrations.localgit import LocalGitBackend
from secrets_app.integrations.repos import RepoBackend, RetryPolicy
from secrets_app.models import Cluster

REPOSITORIES = ("infra", "deploy")


def repository_name(cluster: Cluster, repository: str) -> str:
    return cluster.repository(repository)


def github_auth() -> GitHubAuth:
    if settings.GITHUB_TOKEN:
        return GitHubAuth(token=settings.GITHUB_TOKEN)
    if settings.GITHUB_APP_ID:
        return GitHubAuth(
            app_id=settings.GITHUB_APP_ID,
            private_key=settings.GITHUB_APP_PRIVATE_KEY or None,
            installation_id=int(settings.GITHUB_APP_INSTALLATION_ID or 0) or None,
        )
    raise PermanentError(
        "No GitHub credentials: set GITHUB_TOKEN or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY "
        "and GITHUB_APP_INSTALLATION_ID.",
        system="github",
    )


def backends_for(cluster: Cluster) -> dict[str, RepoBackend]:
    """One backend per repository; GitHub ones share one client."""
    names = {repo: repository_name(cluster, repo) for repo in REPOSITORIES}
    if names["infra"] == names["deploy"]:
        # Clusters are checked when saved; settings (the defaults) are not.
        raise PermanentError(
            f"cluster {cluster.name}: the infra and deploy repositories are both {names['infra']}",
            system="portal",
        )
    if cluster.repo_backend == "local":
        return {repo: LocalGitBackend(name) for repo, name in names.items()}
    auth = github_auth()
    client = build_client(auth, base_url=settings.GITHUB_API_URL)
    return {
        repo: GitHubBackend(name, auth, base_url=settings.GITHUB_API_URL, client=client)
        for repo, name in names.items()
    }


def retry_policy() -> RetryPolicy:
    return RetryPolicy(
        base=settings.PORTAL_TASK_RETRY_BASE,
        cap=settings.PORTAL_TASK_RETRY_CAP,
        max_attempts=settings.PORTAL_TASK_MAX_ATTEMPTS,
    )
