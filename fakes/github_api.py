"""A loopback fake of the GitHub endpoints the portal's GitHub backend uses.

Stateful (repositories, branches, trees, commits, pull requests), serving
REST under ``/api/v3`` and the backend's one GraphQL read under
``/api/graphql``, as GitHub Enterprise lays them out, and a branch's tarball
through a redirect to ``/_codeload`` (GitHub's codeload host). It exists because
github.com cannot be reached from tests: PyGithub runs unchanged against it.

Trees are flat (path -> blob) and their SHAs are this fake's own hashes: the
backend treats SHAs as opaque, which is what this checks.

    with FakeGitHub(token="t") as fake:
        fake.create_repo("acme", "infra")
        Github(base_url=fake.base_url, ...)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import json
import re
import secrets
import tarfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
Reply = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    repo: str  # "owner/name" the request was about, "" if none


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    times: int
    status: int | None
    retry_after: int | None
    delay: float
    message: str
    payload: dict[str, Any] | None = None


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, *details: str):
        super().__init__(message)
        self.status, self.body = status, {"message": message}
        if details:
            self.body["errors"] = [{"resource": "PullRequest", "code": "custom", "message": d}
                                   for d in details]  # fmt: skip


def _sha(*parts: Any) -> str:
    data = json.dumps(parts, sort_keys=True).encode()
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


class FakeGitHub:
    def __init__(self, *, token: str = "fake-token", app_id: int | None = None):  # noqa: S107
        self.token, self.app_id = token, app_id
        self._tokens = {token}
        self._lock = threading.RLock()
        self._repos: dict[str, dict[str, Any]] = {}
        self._blobs: dict[str, str] = {}
        self._trees: dict[str, dict[str, str]] = {}
        self._commits: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._archive_tokens: set[str] = set()
        self._clock = itertools.count(1_700_000_000)
        self.log: list[LoggedRequest] = []
        # Answer recursive tree listings as truncated (GitHub's limits).
        self.truncate_trees = False
        self._server: ThreadingHTTPServer | None = None
        self.root = self.base_url = self.graphql_url = ""

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.root = f"http://{host}:{port}"
        self.base_url, self.graphql_url = f"{self.root}/api/v3", f"{self.root}/api/graphql"
        # A short poll interval keeps stop() (shutdown) from costing 0.5 s.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test helpers --------------------------------------------------------

    def create_repo(
        self, owner: str, name: str, *, base: str = "main", files: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            blobs = {p: self._blob(c) for p, c in (files or {"README.md": "#\n"}).items()}
            commit = self._commit("Initial commit", self._tree(blobs), [])
            self._repos[f"{owner}/{name}"] = {"refs": {base: commit}, "pulls": {}}

    def push(
        self,
        owner: str,
        repo: str,
        branch: str,
        files: dict[str, str | None],
        message: str = "push",
    ) -> str:
        """Someone pushes one commit on ``branch``: ``files`` written (None
        deletes one). Returns the commit."""
        with self._lock:
            r = self._repos[f"{owner}/{repo}"]
            parent = r["refs"][branch]
            entries = dict(self._trees[self._commits[parent]["tree"]])
            for path, content in files.items():
                if content is None:
                    entries.pop(path, None)
                else:
                    entries[path] = self._blob(content)
            r["refs"][branch] = self._commit(message, self._tree(entries), [parent])
            return r["refs"][branch]

    def branch_files(self, owner: str, repo: str, branch: str) -> dict[str, str]:
        with self._lock:
            tree = self._trees[self.branch_commit(owner, repo, branch)["tree"]]
            return {path: self._blobs[sha] for path, sha in tree.items()}

    def branch_commit(self, owner: str, repo: str, branch: str) -> dict[str, Any]:
        """The head commit: sha, message, tree, parents."""
        with self._lock:
            return dict(self._commits[self._repos[f"{owner}/{repo}"]["refs"][branch]])

    def pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        with self._lock:
            return self._pull_json(
                f"{owner}/{repo}", self._repos[f"{owner}/{repo}"]["pulls"][number]
            )

    def merge_pull(self, owner: str, repo: str, number: int) -> None:
        """Merge as GitHub's button does: a merge commit on the base branch,
        applying the head's changes since its parent onto the current base."""
        with self._lock:
            r = self._repos[f"{owner}/{repo}"]
            pr = r["pulls"][number]
            if pr["state"] != "open":
                raise ValueError(f"pull request #{number} is {pr['state']}")
            head, base = r["refs"][pr["head"]], r["refs"][pr["base"]]
            old = self._trees[self._commits[self._commits[head]["parents"][0]]["tree"]]
            new = self._trees[self._commits[head]["tree"]]
            merged = dict(self._trees[self._commits[base]["tree"]])
            for path in old.keys() - new.keys():
                merged.pop(path, None)
            merged.update({p: s for p, s in new.items() if old.get(p) != s})
            message = f"Merge pull request #{number} from {owner}/{pr['head']}"
            merge = self._commit(message, self._tree(merged), [base, head])
            r["refs"][pr["base"]] = merge
            pr.update(state="closed", merged=True, head_sha=head, merge_commit_sha=merge)
            self._touch(pr)

    def close_pull(self, owner: str, repo: str, number: int) -> None:
        with self._lock:
            pr = self._repos[f"{owner}/{repo}"]["pulls"][number]
            if pr["state"] != "open":
                raise ValueError(f"pull request #{number} is {pr['state']}")
            pr.update(state="closed", head_sha=self._head_sha(f"{owner}/{repo}", pr))
            self._touch(pr)

    def reopen_pull(self, owner: str, repo: str, number: int) -> None:
        """Reopen as GitHub allows: a closed, unmerged pull request whose
        branch still exists."""
        with self._lock:
            r = self._repos[f"{owner}/{repo}"]
            pr = r["pulls"][number]
            if pr["state"] != "closed" or pr["merged"] or pr["head"] not in r["refs"]:
                raise ValueError(f"pull request #{number} cannot be reopened")
            pr["state"] = "open"
            self._touch(pr)

    def delete_branch(self, owner: str, repo: str, branch: str) -> None:
        """What "Automatically delete head branches" does after a merge."""
        with self._lock:
            self._repos[f"{owner}/{repo}"]["refs"].pop(branch, None)

    def pulls_of(self, owner: str, repo: str) -> list[dict[str, Any]]:
        with self._lock:
            r = self._repos[f"{owner}/{repo}"]
            return [self._pull_json(f"{owner}/{repo}", p) for _, p in sorted(r["pulls"].items())]

    def webhook_payload(self, owner: str, repo: str, number: int, action: str) -> dict[str, Any]:
        """The body of GitHub's ``pull_request`` webhook for ``action``
        ("opened", "closed", "reopened", ...) as the pull request is now."""
        return {
            "action": action,
            "number": number,
            "repository": {"full_name": f"{owner}/{repo}"},
            "pull_request": self.pull(owner, repo, number),
        }

    def graphql_error_next(
        self,
        *,
        type: str = "RATE_LIMITED",
        message: str = "API rate limit exceeded",
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """The next GraphQL queries get HTTP 200 with an ``errors`` body, as
        GitHub answers its GraphQL rate limit and timeouts."""
        errors = {"errors": [{"type": type, "message": message}]}
        self.inject("POST", r"^/api/graphql$", status=200, times=times, retry_after=retry_after,
                    message=message, payload=errors)  # fmt: skip

    def _touch(self, pr: dict[str, Any]) -> None:
        pr["updated_at"] = next(self._clock)

    def inject(
        self,
        method: str,
        path: str,
        *,
        status: int | None = 502,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        message: str = "Server Error",
        payload: dict[str, Any] | None = None,
    ) -> None:
        """The next ``times`` requests with this method and a path matching
        the regex ``path`` wait ``delay`` seconds, then (unless ``status`` is
        None) get ``status`` and ``payload`` (default: ``message``) instead of
        being served."""
        fault = _Fault(
            method.upper(), re.compile(path), times, status, retry_after, delay, message, payload
        )
        with self._lock:
            self._faults.append(fault)

    def rate_limit_next(
        self, method: str, path: str, *, retry_after: int, status: int = 403
    ) -> None:
        """GitHub's secondary rate limit: 403 (or 429) with ``Retry-After``."""
        msg = SECONDARY_RATE_LIMIT_MESSAGE
        self.inject(method, path, status=status, retry_after=retry_after, message=msg)

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def clear_faults(self) -> None:
        """Forget the faults injected and not yet served."""
        with self._lock:
            self._faults.clear()

    def requests_for(self, owner: str, repo: str) -> list[LoggedRequest]:
        with self._lock:
            return [e for e in self.log if e.repo == f"{owner}/{repo}"]

    # --- git model -----------------------------------------------------------

    def _blob(self, content: str) -> str:
        data = content.encode()
        sha = hashlib.sha1(b"blob %d\0%s" % (len(data), data), usedforsecurity=False).hexdigest()
        self._blobs[sha] = content
        return sha

    def _tree(self, entries: dict[str, str]) -> str:
        sha = _sha("tree", sorted(entries.items()))
        self._trees[sha] = dict(entries)
        return sha

    def _commit(self, message: str, tree: str, parents: list[str]) -> str:
        when = next(self._clock)
        sha = _sha("commit", message, tree, parents, when)
        date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
        self._commits[sha] = {
            "sha": sha, "message": message, "tree": tree, "parents": parents, "date": date
        }  # fmt: skip
        return sha

    def _is_ancestor(self, maybe: str, commit: str) -> bool:
        todo, seen = [commit], set()
        while todo:
            sha = todo.pop()
            if sha == maybe:
                return True
            if sha not in seen:
                seen.add(sha)
                todo.extend(self._commits[sha]["parents"])
        return False

    def _head_sha(self, repo: str, pr: dict[str, Any]) -> str:
        # Open pull requests follow their branch; closed ones keep their last head.
        if pr["state"] == "open":
            return self._repos[repo]["refs"].get(pr["head"], pr["head_sha"])
        return pr["head_sha"]

    # --- JSON shapes (the fields PyGithub reads) -----------------------------

    def _commit_json(self, repo: str, sha: str) -> dict[str, Any]:
        c, url = self._commits[sha], f"{self.base_url}/repos/{repo}"
        person = {"name": "Portal", "email": "portal@example.invalid", "date": c["date"]}
        return {
            "sha": sha, "url": f"{url}/git/commits/{sha}", "message": c["message"],
            "author": person, "committer": person,
            "html_url": f"{self.root}/{repo}/commit/{sha}",
            "tree": {"sha": c["tree"], "url": f"{url}/git/trees/{c['tree']}"},
            "parents": [{"sha": p, "url": f"{url}/git/commits/{p}"} for p in c["parents"]],
        }  # fmt: skip

    def _tree_json(self, repo: str, sha: str) -> dict[str, Any]:
        url = f"{self.base_url}/repos/{repo}/git"
        entries = [
            {"path": p, "mode": "100644", "type": "blob", "sha": s, "url": f"{url}/blobs/{s}"}
            for p, s in sorted(self._trees[sha].items())
        ]
        return {"sha": sha, "url": f"{url}/trees/{sha}", "tree": entries, "truncated": False}

    def _tree_listing(self, repo: str, ref: str, *, recursive: str | None) -> dict[str, Any]:
        """``GET /git/trees/<sha or branch>``: as GitHub lists it, folders as
        ``tree`` entries; with ``recursive`` every path, else the top level.
        ``truncate_trees`` makes it answer as GitHub does past its limits."""
        refs = self._repos[repo]["refs"]
        sha = self._commits[refs[ref]]["tree"] if ref in refs else ref
        if sha in self._commits:
            sha = self._commits[sha]["tree"]
        if sha not in self._trees:
            raise _HTTPError(404, "Not Found")
        url = f"{self.base_url}/repos/{repo}/git"
        entries: dict[str, dict[str, Any]] = {}
        for path, blob in sorted(self._trees[sha].items()):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                entries.setdefault(folder, {"path": folder, "mode": "040000", "type": "tree"})
            entries[path] = {
                "path": path, "mode": "100644", "type": "blob", "sha": blob,
                "size": len(self._blobs[blob].encode()), "url": f"{url}/blobs/{blob}",
            }  # fmt: skip
        listed = [e for p, e in sorted(entries.items()) if recursive or "/" not in p]
        truncated = bool(recursive) and self.truncate_trees
        if truncated:
            listed = listed[: len(listed) // 2]
        return {"sha": sha, "url": f"{url}/trees/{sha}", "tree": listed, "truncated": truncated}

    def _ref_json(self, repo: str, branch: str) -> dict[str, Any]:
        sha, url = self._repos[repo]["refs"][branch], f"{self.base_url}/repos/{repo}/git"
        return {
            "ref": f"refs/heads/{branch}", "url": f"{url}/refs/heads/{branch}",
            "object": {"type": "commit", "sha": sha, "url": f"{url}/commits/{sha}"},
        }  # fmt: skip

    def _pull_json(self, repo: str, pr: dict[str, Any]) -> dict[str, Any]:
        n, refs, owner = pr["number"], self._repos[repo]["refs"], repo.split("/")[0]
        closed_at = "2024-01-01T00:00:00Z" if pr["state"] == "closed" else None
        updated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pr.get("updated_at", 0)))
        return {
            "updated_at": updated_at,
            "id": n, "number": n, "state": pr["state"], "title": pr["title"], "body": pr["body"],
            "url": f"{self.base_url}/repos/{repo}/pulls/{n}",
            "html_url": f"{self.root}/{repo}/pull/{n}", "draft": False,
            "merged": pr["merged"], "merged_at": closed_at if pr["merged"] else None,
            "closed_at": closed_at, "merge_commit_sha": pr.get("merge_commit_sha"),
            "head": {"ref": pr["head"], "label": f"{owner}:{pr['head']}",
                     "sha": self._head_sha(repo, pr)},
            "base": {"ref": pr["base"], "label": f"{owner}:{pr['base']}",
                     "sha": refs.get(pr["base"], "")},
        }  # fmt: skip

    # --- request handling ----------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> Reply:
        if path.startswith("/api/v3/app/installations/"):
            return self._installation_token(path, auth)
        if path.startswith("/_codeload/"):
            return self._codeload(path, query)
        if auth.partition(" ")[2] not in self._tokens:
            raise _HTTPError(401, "Bad credentials")
        if path == "/api/graphql":
            return 200, self._graphql(body or {}), {}
        m = re.fullmatch(r"/api/v3/repos/([^/]+/[^/]+)(/.*)", path)
        with self._lock:
            if not m or m.group(1) not in self._repos:
                raise _HTTPError(404, "Not Found")
            return self._route(method, m.group(1), m.group(2), query, body or {})

    def _route(self, method: str, repo: str, rest: str, query: dict[str, str], body: Any) -> Reply:
        r = self._repos[repo]

        def at(verb: str, pattern: str) -> str | None:
            found = re.fullmatch(pattern, rest) if verb == method else None
            return None if found is None else unquote(found.group(1) or "")

        if at("POST", r"/git/trees()") is not None:
            return 201, self._tree_json(repo, self._create_tree(body)), {}
        if at("POST", r"/git/commits()") is not None:
            tree, parents = body.get("tree"), body.get("parents", [])
            if tree not in self._trees or any(p not in self._commits for p in parents):
                raise _HTTPError(422, "Tree SHA or parent SHA does not exist")
            return 201, self._commit_json(repo, self._commit(body["message"], tree, parents)), {}
        if at("POST", r"/git/refs()") is not None:
            ref, sha = body.get("ref", ""), body.get("sha")
            if not ref.startswith("refs/heads/") or sha not in self._commits:
                raise _HTTPError(422, "Invalid request.")
            if ref[11:] in r["refs"]:
                raise _HTTPError(422, "Reference already exists")
            r["refs"][ref[11:]] = sha
            return 201, self._ref_json(repo, ref[11:]), {}
        if (branch := at("PATCH", r"/git/refs/heads/(.+)")) is not None:
            if branch not in r["refs"] or body.get("sha") not in self._commits:
                raise _HTTPError(422, "Reference does not exist")
            if not body.get("force") and not self._is_ancestor(r["refs"][branch], body["sha"]):
                raise _HTTPError(422, "Update is not a fast forward")
            r["refs"][branch] = body["sha"]
            return 200, self._ref_json(repo, branch), {}
        if (branch := at("DELETE", r"/git/refs/heads/(.+)")) is not None:
            if r["refs"].pop(branch, None) is None:
                raise _HTTPError(422, "Reference does not exist")
            return 204, None, {}
        if (ref := at("GET", r"/git/trees/(.+)")) is not None:
            return 200, self._tree_listing(repo, ref, recursive=query.get("recursive")), {}
        if (ref := at("GET", r"/tarball/(.+)")) is not None:
            return self._tarball_redirect(repo, ref)
        if at("GET", r"/pulls()") is not None:
            state, head = query.get("state", "open"), query.get("head")
            pulls = [p for p in r["pulls"].values() if state in ("all", p["state"])]
            pulls = [p for p in pulls if head in (None, f"{repo.split('/')[0]}:{p['head']}")]
            return 200, [self._pull_json(repo, p) for p in pulls], {}
        if at("POST", r"/pulls()") is not None:
            return 201, self._pull_json(repo, self._create_pull(repo, body)), {}
        if (number := at("GET", r"/pulls/(\d+)") or at("PATCH", r"/pulls/(\d+)")) is not None:
            if (pr := r["pulls"].get(int(number))) is None:
                raise _HTTPError(404, "Not Found")
            if body.get("state") == "closed" and pr["state"] == "open":
                pr["head_sha"] = self._head_sha(repo, pr)
            if body.get("state") == "open" and pr["merged"]:
                raise _HTTPError(422, "Validation Failed", "a merged pull request cannot reopen")
            if method == "PATCH" and body:
                pr.update({k: body[k] for k in ("title", "body", "state") if k in body})
                self._touch(pr)
            return 200, self._pull_json(repo, pr), {}
        raise _HTTPError(404, "Not Found")

    def _create_tree(self, body: dict[str, Any]) -> str:
        base = body.get("base_tree")
        if base is not None and base not in self._trees:
            raise _HTTPError(422, "base_tree is not a valid tree oid")
        entries = dict(self._trees[base]) if base else {}
        for item in body.get("tree", []):
            path = item.get("path", "")
            if not path or path.startswith("/") or "//" in path or item.get("type") != "blob":
                raise _HTTPError(422, "tree.path contains a malformed path component")
            if "content" in item:
                entries[path] = self._blob(item["content"])
            elif item.get("sha") is None:
                entries.pop(path, None)  # GitHub's way to delete a path
            elif item["sha"] in self._blobs:
                entries[path] = item["sha"]
            else:
                raise _HTTPError(422, "tree.sha is not a valid blob")
        return self._tree(entries)

    def _create_pull(self, repo: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self._repos[repo]
        head, base = body.get("head", "").split(":")[-1], body.get("base", "")
        if head not in r["refs"] or base not in r["refs"]:
            raise _HTTPError(422, "Validation Failed", f"head {head} or base {base} is invalid")
        if any(p["head"] == head and p["state"] == "open" for p in r["pulls"].values()):
            owner = repo.split("/")[0]
            raise _HTTPError(
                422, "Validation Failed", f"A pull request already exists for {owner}:{head}."
            )
        if self._is_ancestor(r["refs"][head], r["refs"][base]):
            raise _HTTPError(422, "Validation Failed", f"No commits between {base} and {head}")
        number = len(r["pulls"]) + 1
        r["pulls"][number] = pr = {
            "number": number, "head": head, "base": base, "state": "open", "merged": False,
            "title": body.get("title", ""), "body": body.get("body") or "",
            "head_sha": r["refs"][head], "updated_at": next(self._clock),
        }  # fmt: skip
        return pr

    def _graphql(self, body: dict[str, Any]) -> dict[str, Any]:
        """The backend's one query: base ref, head ref, the head's open PR."""
        v = body.get("variables") or {}
        if "associatedPullRequests" not in body.get("query", "") or not {"owner", "name"} <= set(v):
            return {"errors": [{"message": "the fake answers only the portal's branch query"}]}
        repo = f"{v['owner']}/{v['name']}"
        with self._lock:
            if repo not in self._repos:
                message = f"Could not resolve to a Repository with the name '{repo}'."
                error = {"type": "NOT_FOUND", "path": ["repository"], "message": message}
                return {"data": {"repository": None}, "errors": [error]}
            refs = {k: self._graphql_ref(repo, v.get(k, "")) for k in ("base", "head")}
            merged = [
                {"number": n, "url": f"{self.root}/{repo}/pull/{n}", "headRefOid": p["head_sha"]}
                for n, p in self._repos[repo]["pulls"].items()
                if p["head"] == v.get("headName") and p["merged"]
            ]
            return {"data": {"repository": {**refs, "merged": {"nodes": merged[:1]}}}}

    def _graphql_ref(self, repo: str, qualified: str) -> dict[str, Any] | None:
        r, branch = self._repos[repo], qualified.removeprefix("refs/heads/")
        if branch not in r["refs"]:
            return None
        c = self._commits[r["refs"][branch]]
        pulls = [
            {"number": n, "url": f"{self.root}/{repo}/pull/{n}", "state": "OPEN",
             "headRefOid": c["sha"]}
            for n, p in r["pulls"].items() if p["head"] == branch and p["state"] == "open"
        ]  # fmt: skip
        parents = {"totalCount": len(c["parents"]), "nodes": [{"oid": p} for p in c["parents"]]}
        target = {"oid": c["sha"], "message": c["message"], "tree": {"oid": c["tree"]}}
        return {
            "name": branch,
            "target": {**target, "parents": parents},
            "associatedPullRequests": {"nodes": pulls[:1]},
        }

    # --- archives: GET /tarball/<ref>, then the codeload URL it redirects to ---

    def _tarball_redirect(self, repo: str, ref: str) -> Reply:
        """As GitHub does: 302 to a codeload URL for the ref's commit that
        carries its own short-lived token (no Authorization needed there)."""
        if ref not in self._repos[repo]["refs"]:
            raise _HTTPError(404, "Not Found")
        sha = self._repos[repo]["refs"][ref]
        token = secrets.token_hex(8)
        self._archive_tokens.add(token)
        location = f"{self.root}/_codeload/{repo}/legacy.tar.gz/{sha}?token={token}"
        return 302, {}, {"Location": location}

    def _codeload(self, path: str, query: dict[str, str]) -> Reply:
        m = re.fullmatch(r"/_codeload/([^/]+)/([^/]+)/legacy\.tar\.gz/([0-9a-f]+)", path)
        with self._lock:
            if not m or query.get("token") not in self._archive_tokens:
                raise _HTTPError(404, "Not Found")
            owner, name, sha = m.groups()
            tree = self._trees[self._commits[sha]["tree"]]
            files = {p: self._blobs[b] for p, b in tree.items()}
        buffer = io.BytesIO()
        top = f"{owner}-{name}-{sha[:7]}"
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for file_path, content in sorted(files.items()):
                data = content.encode()
                info = tarfile.TarInfo(f"{top}/{file_path}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return 200, gzip.compress(buffer.getvalue()), {"Content-Type": "application/x-gzip"}

    def _installation_token(self, path: str, auth: str) -> Reply:
        # A JWT's payload names the app. Checking its signature is GitHub's
        # business; the fake checks that the backend sent an app JWT at all.
        try:
            payload = auth.split(" ", 1)[1].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError) as exc:
            raise _HTTPError(401, "A JSON web token could not be decoded") from exc
        if self.app_id is None or str(claims.get("iss")) != str(self.app_id):
            raise _HTTPError(401, "Bad credentials")
        token = "ghs_fake" + _sha(path, time.time())
        with self._lock:
            self._tokens.add(token)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return 201, {"token": token, "expires_at": expires, "permissions": {}}, {}

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fake's own request log is what tests read

    def _serve(self) -> None:
        fake, url = self.fake, urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        m = re.match(r"/(?:api/v3/repos|_codeload)/([^/]+/[^/]+)", url.path)
        repo = m.group(1) if m else ""
        if url.path == "/api/graphql" and isinstance(body, dict):
            v = body.get("variables") or {}
            repo = f"{v.get('owner')}/{v.get('name')}" if "owner" in v else ""
        status, payload, extra = 500, {"message": "fake failure"}, {}
        fault = fake._take_fault(self.command, url.path)
        try:
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status is not None:
                status, payload = fault.status, fault.payload or {"message": fault.message}
                if fault.retry_after is not None:
                    extra = {"Retry-After": str(fault.retry_after)}
            else:
                auth = self.headers.get("Authorization", "")
                status, payload, extra = fake.handle(self.command, url.path, query, body, auth)
        except _HTTPError as exc:
            status, payload = exc.status, exc.body
        finally:
            with fake._lock:
                fake.log.append(LoggedRequest(self.command, url.path, status, repo))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        extra = {"Content-Type": "application/json; charset=utf-8", **extra}
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (timeout tests)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
