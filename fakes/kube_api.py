"""A loopback fake of the Kubernetes API's read side, for tests and the demo.

Serves list and get for the core and custom resources the portal reads, with
``limit``/``continue`` (opaque tokens), equality label selectors, simple field
selectors, the metadata-only ``Accept`` header and Kubernetes-style ``Status``
error bodies. Objects are plain dicts. Tests read ``requests`` (what the client
asked) and inject faults (``fail_next``, ``delay_next``, ``down``/``up``).

Run standalone for the demo or the benchmark::

    python -m fakes.kube_api --pods 1000 --bindings 200 --port 8001
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CORE = "api/v1"
SSCSI = "apis/secrets-store.csi.x-k8s.io/v1"
APPS = "apis/apps/v1"
STORAGE = "apis/storage.k8s.io/v1"
RBAC = "apis/rbac.authorization.k8s.io/v1"

# kind -> (api prefix, plural, namespaced, apiVersion)
KINDS: dict[str, tuple[str, str, bool, str]] = {
    "Pod": (CORE, "pods", True, "v1"),
    "ServiceAccount": (CORE, "serviceaccounts", True, "v1"),
    "Event": (CORE, "events", True, "v1"),
    "Secret": (CORE, "secrets", True, "v1"),
    "Namespace": (CORE, "namespaces", False, "v1"),
    "SecretProviderClass": (SSCSI, "secretproviderclasses", True, "secrets-store.csi.x-k8s.io/v1"),
    "SecretProviderClassPodStatus": (
        SSCSI,
        "secretproviderclasspodstatuses",
        True,
        "secrets-store.csi.x-k8s.io/v1",
    ),
    "Deployment": (APPS, "deployments", True, "apps/v1"),
    # Cluster readiness: the driver, provider and agent DaemonSets, the
    # CSIDriver object and the driver's ClusterRoles.
    "DaemonSet": (APPS, "daemonsets", True, "apps/v1"),
    "CSIDriver": (STORAGE, "csidrivers", False, "storage.k8s.io/v1"),
    "ClusterRole": (RBAC, "clusterroles", False, "rbac.authorization.k8s.io/v1"),
}
_RESOURCES = {(prefix, plural): (kind, ns, av) for kind, (prefix, plural, ns, av) in KINDS.items()}
_METADATA_ONLY = "as=PartialObjectMetadata"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    accept: str
    authorization: str = ""


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _lookup(obj: dict[str, Any], dotted: str) -> str:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    return "" if cur is None else str(cur)


def _parse_selector(text: str) -> list[tuple[str, str, bool]]:
    """``a=b,c!=d`` -> [(key, value, equal?)]; ``key`` alone means "exists"."""
    terms = []
    for raw in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append((key.strip(), value.strip(), False))
        elif "=" in raw:
            key, value = raw.split("==", 1) if "==" in raw else raw.split("=", 1)
            terms.append((key.strip(), value.strip(), True))
        else:
            terms.append((raw, "", True))
    return terms


def _matches(obj: dict[str, Any], labels: list, fields: list) -> bool:
    if labels:
        have = (obj.get("metadata") or {}).get("labels") or {}
        for key, value, equal in labels:
            if value == "" and equal:
                if key not in have:
                    return False
            elif (have.get(key) == value) != equal:
                return False
    return all((_lookup(obj, path) == value) == equal for path, value, equal in fields)


def _encode_token(key: tuple[str, str], rv: int) -> str:
    raw = json.dumps({"k": list(key), "rv": rv}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[str, str]:
    data = json.loads(base64.urlsafe_b64decode(token.encode()))
    return (str(data["k"][0]), str(data["k"][1]))


class FakeKubeApi:
    """The fake server. ``start()`` binds 127.0.0.1 on a free port; ``url`` is its base."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._store: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {
            key: {} for key in _RESOURCES
        }
        self._sorted: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._json: dict[tuple, bytes] = {}
        self._rv = 1
        self._faults: list[tuple[str, Any]] = []
        self.requests: list[RequestRecord] = []
        #: Path prefixes answered 403 Forbidden (RBAC that does not grant them).
        self.forbidden: set[str] = set()
        #: Secrets served with a data/stringData field (the portal must keep this at 0).
        self.secret_data_served = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()

    # -- lifecycle -----------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeKubeApi:
        server = _Server((self.host, self.port), _Handler)
        server.fake = self  # type: ignore[attr-defined]
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open keep-alive connections: clients get refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server = None

    down = stop

    def up(self) -> None:
        """Listen again on the same port after ``down()``."""
        if self._server is None:
            self.start()

    def __enter__(self) -> FakeKubeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ----------------------------------------------------------------
    def add(self, obj: dict[str, Any]) -> None:
        self.add_many([obj])

    def add_many(self, objs: list[dict[str, Any]]) -> None:
        with self._lock:
            for obj in objs:
                prefix, plural, namespaced, api_version = KINDS[obj["kind"]]
                obj.setdefault("apiVersion", api_version)
                meta = obj.setdefault("metadata", {})
                self._rv += 1
                meta.setdefault("resourceVersion", str(self._rv))
                ns = meta.get("namespace", "") if namespaced else ""
                self._store[(prefix, plural)][(ns, meta["name"])] = obj
                self._sorted.pop((prefix, plural), None)
                for metadata_only in (False, True):
                    self._json.pop(((prefix, plural), (ns, meta["name"]), metadata_only), None)

    def remove(self, kind: str, namespace: str, name: str) -> None:
        prefix, plural, namespaced, _ = KINDS[kind]
        with self._lock:
            key = (namespace if namespaced else "", name)
            self._store[(prefix, plural)].pop(key, None)
            self._sorted.pop((prefix, plural), None)
            for metadata_only in (False, True):
                self._json.pop(((prefix, plural), key, metadata_only), None)

    def clear(self) -> None:
        with self._lock:
            for bucket in self._store.values():
                bucket.clear()
            self._sorted.clear()
            self._json.clear()

    def prime(self) -> None:
        """Serialize every object now rather than on its first list (benchmarks)."""
        for res, bucket in self._store.items():
            kind = _RESOURCES[res][0]
            self._encoded(res, kind, list(bucket.items()), False)
            if kind == "Secret":
                self._encoded(res, kind, list(bucket.items()), True)
        self.secret_data_served = 0

    def count(self, kind: str) -> int:
        prefix, plural, _, _ = KINDS[kind]
        return len(self._store[(prefix, plural)])

    # -- faults and log ------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """The next ``n`` requests answer ``status`` with a Status body."""
        with self._lock:
            self._faults.extend([("fail", (status, retry_after))] * n)

    def delay_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """The next ``n`` requests sleep ``seconds`` before answering normally."""
        with self._lock:
            self._faults.extend([("delay", seconds)] * n)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- request handling (called from handler threads) ----------------------
    def _take_fault(self) -> tuple[str, Any] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _keys(self, res: tuple[str, str]) -> list[tuple[str, str]]:
        with self._lock:
            keys = self._sorted.get(res)
            if keys is None:
                keys = self._sorted[res] = sorted(self._store[res])
            return keys

    def handle(self, path: str, query: dict[str, str], accept: str) -> tuple[int, bytes]:
        """Answer one GET: (HTTP status, JSON body)."""
        if any(path.startswith(prefix) for prefix in self.forbidden):
            msg = f"forbidden: cannot list resource at {path}"
            return 403, _dump(status_body(403, "Forbidden", msg))
        route = _route(path)
        if route is None:
            msg = f"the server could not find the requested resource ({path})"
            return 404, _dump(status_body(404, "NotFound", msg))
        res, namespace, name = route
        kind, namespaced, api_version = _RESOURCES[res]
        metadata_only = _METADATA_ONLY in accept
        if name is not None:
            key = (namespace or "", name)
            obj = self._store[res].get(key)
            if obj is None:
                return 404, _dump(status_body(404, "NotFound", f'{res[1]} "{name}" not found'))
            return 200, self._encoded(res, kind, [(key, obj)], metadata_only)[0]
        try:
            labels = _parse_selector(query.get("labelSelector", ""))
            fields = _parse_selector(query.get("fieldSelector", ""))
            limit = int(query.get("limit") or 0)
            after = _decode_token(query["continue"]) if query.get("continue") else None
        except (ValueError, KeyError, TypeError, IndexError):
            msg = "invalid limit, selector or continue token"
            return 400, _dump(status_body(400, "BadRequest", msg))
        ns = namespace if namespaced else None
        items, next_key = self._page(res, ns, labels, fields, limit, after)
        meta: dict[str, Any] = {"resourceVersion": str(self._rv)}
        if next_key is not None:
            meta["continue"] = _encode_token(next_key, self._rv)
        if metadata_only:
            head = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1"}
        else:
            head = {"kind": f"{kind}List", "apiVersion": api_version}
        head["metadata"] = meta
        encoded = self._encoded(res, kind, items, metadata_only)
        return 200, _dump(head)[:-1] + b',"items":[' + b",".join(encoded) + b"]}"

    def _page(self, res, namespace, labels, fields, limit, after):
        keys = self._keys(res)
        bucket = self._store[res]
        if namespace is not None:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
        else:
            lo, hi = 0, len(keys)
        if after is not None:
            lo = max(lo, bisect.bisect_right(keys, after))
        items: list[tuple[tuple[str, str], dict]] = []
        for i in range(lo, hi):
            obj = bucket.get(keys[i])
            if obj is None or not _matches(obj, labels, fields):
                continue
            if limit and len(items) == limit:
                # Only promise more when another match exists, so that exactly
                # ``limit`` items cost one request, as with a real apiserver.
                return items, items[-1][0]
            items.append((keys[i], obj))
        return items, None

    def _encoded(self, res, kind: str, items: list, metadata_only: bool) -> list[bytes]:
        # Each object is serialized once and cached, so that the fake's own
        # JSON work does not dominate a benchmark of the client.
        if kind == "Secret" and not metadata_only:
            served = sum(1 for _, o in items if "data" in o or "stringData" in o)
            if served:
                with self._lock:
                    self.secret_data_served += served
        cache = self._json
        out = []
        for key, obj in items:
            ckey = (res, key, metadata_only)
            data = cache.get(ckey)
            if data is None:
                if metadata_only:
                    shaped = {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj["metadata"],
                    }
                else:
                    shaped = obj
                data = cache[ckey] = _dump(shaped)
            out.append(data)
        return out


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _route(path: str) -> tuple[tuple[str, str], str | None, str | None] | None:
    """``/api/v1/namespaces/ns/pods/x`` -> ((prefix, plural), namespace, name)."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        prefix, rest = CORE, parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        prefix, rest = "/".join(parts[:3]), parts[3:]
    else:
        return None
    if rest[:1] == ["namespaces"] and len(rest) == 2:
        return (
            ((prefix, "namespaces"), None, rest[1])
            if (prefix, "namespaces") in _RESOURCES
            else None
        )
    namespace = None
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if len(rest) not in (1, 2) or (prefix, rest[0]) not in _RESOURCES:
        return None
    return (prefix, rest[0]), namespace, (rest[1] if len(rest) == 2 else None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and left is expected (timeout tests).
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real client expects
    timeout = 30
    # Buffered writes (flushed after each request): headers and body leave in
    # one go instead of two small writes that meet Nagle + delayed ACK.
    wbufsize = -1

    def setup(self) -> None:
        super().setup()
        fake: FakeKubeApi = self.server.fake  # type: ignore[attr-defined]
        with fake._lock:
            fake._conns.add(self.connection)

    def finish(self) -> None:
        fake: FakeKubeApi = self.server.fake  # type: ignore[attr-defined]
        with fake._lock:
            fake._conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read fake.requests instead

    def _send(self, code: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True  # client gave up (timeout test)

    def _record(self) -> tuple[FakeKubeApi, str, dict[str, str], str]:
        fake: FakeKubeApi = self.server.fake  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        accept = self.headers.get("Accept", "")
        with fake._lock:
            auth = self.headers.get("Authorization", "")
            fake.requests.append(RequestRecord(self.command, split.path, query, accept, auth))
        return fake, split.path, query, accept

    def do_GET(self) -> None:
        fake, path, query, accept = self._record()
        fault = fake._take_fault()
        if fault and fault[0] == "delay":
            time.sleep(fault[1])
        elif fault and fault[0] == "fail":
            code, retry_after = fault[1]
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            body = _dump(status_body(code, "InternalError", "injected failure"))
            self._send(code, body, headers)
            return
        code, payload = fake.handle(path, query, accept)
        self._send(code, payload)

    def _not_allowed(self) -> None:
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._send(405, _dump(status_body(405, "MethodNotAllowed", "this fake is read-only")))

    do_POST = do_PUT = do_PATCH = do_DELETE = _not_allowed


def main(argv: list[str] | None = None) -> None:
    from fakes.cluster_gen import generate_cluster, targets_to_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--bindings", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--readiness", default="ready", help="a fakes.cluster_ready kind")
    parser.add_argument("--targets-out", help="write the BindingTarget list here (JSON)")
    parser.add_argument("--ready-file", help="write the base URL here once listening")
    args = parser.parse_args(argv)
    cluster = generate_cluster(
        pods=args.pods, bindings=args.bindings, seed=args.seed, readiness=args.readiness
    )
    fake = FakeKubeApi(port=args.port)
    fake.add_many(cluster.objects)
    del cluster.objects[:]
    fake.prime()
    if args.targets_out:
        with open(args.targets_out, "w") as fh:
            fh.write(targets_to_json(cluster.targets))
    fake.start()
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as fh:
            fh.write(fake.url)
        import os

        os.replace(args.ready_file + ".tmp", args.ready_file)
    print(f"fake Kubernetes API on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
