"""Kubernetes adapter: one ``ApiClient`` per cluster, paginated raw-JSON reads.

Lists go through the client library's own request path (auth incl. token
refresh, TLS, pooling, URL encoding) but skip its model deserialization: a
20k-pod sweep would otherwise build millions of model objects. Pages are
decoded with msgspec, optionally into caller-given Structs that declare only
the fields needed (unknown fields are skipped without being built). Every call has
connect/read timeouts, and every failure becomes a ``RetryableError`` or a
``PermanentError`` (``system="kubernetes"``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from secrets_app.integrations.errors import PermanentError, RetryableError

SYSTEM = "kubernetes"
METADATA_ONLY_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_ONLY_GET = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
DEFAULT_PAGE_SIZE = 500
# 410: the continue token expired (etcd compaction); a fresh list will work.
_RETRYABLE_STATUS = frozenset({408, 410, 429, 500, 502, 503, 504})


T = TypeVar("T")


class _ListMeta(msgspec.Struct, frozen=True):
    continue_: str = msgspec.field(name="continue", default="")


class _List(msgspec.Struct, Generic[T], frozen=True):
    metadata: _ListMeta = _ListMeta()
    items: list[T] | None = None


_decoders: dict[Any, msgspec.json.Decoder] = {}


def _list_decoder(item_type: Any) -> msgspec.json.Decoder:
    decoder = _decoders.get(item_type)
    if decoder is None:
        decoder = _decoders[item_type] = msgspec.json.Decoder(_List[item_type])
    return decoder


@dataclass(frozen=True, slots=True)
class Resource:
    """A REST collection; ``group`` "" is the core API."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if namespace is not None and self.namespaced:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return base + (f"/{name}" if name is not None else "")


PODS = Resource("", "v1", "pods")
SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts")
EVENTS = Resource("", "v1", "events")
SECRETS = Resource("", "v1", "secrets")
NAMESPACES = Resource("", "v1", "namespaces", namespaced=False)
DEPLOYMENTS = Resource("apps", "v1", "deployments")
DAEMONSETS = Resource("apps", "v1", "daemonsets")
CSI_DRIVERS = Resource("storage.k8s.io", "v1", "csidrivers", namespaced=False)
CLUSTER_ROLES = Resource("rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False)
SPCS = Resource("secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses")
SPC_POD_STATUSES = Resource("secrets-store.csi.x-k8s.io", "v1", "secretproviderclasspodstatuses")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; applied to every request (connect, then each socket read)."""

    connect: float = 5.0
    read: float = 30.0


class KubeClient:
    """Read-only access to one cluster. Not thread-safe: one per sweep/thread."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        cluster: str = "",
        timeouts: Timeouts = Timeouts(),
        attempts: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
    ) -> None:
        self.api_client = api_client
        self.cluster = cluster or api_client.configuration.host
        self.timeouts = timeouts
        # Per request: a transient 5xx/timeout on page 7 of 40 is retried with
        # the same continue token instead of failing or restarting the sweep.
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.requests = 0

    def close(self) -> None:
        self.api_client.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_pages(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        label_selector: str | None = None,
        field_selector: str | None = None,
        metadata_only: bool = False,
        item_type: Any = None,
    ) -> Iterator[list[Any]]:
        """Yield the items of a list, one page (``limit=page_size``) at a time.

        Items are dicts, or instances of ``item_type`` (a msgspec Struct) when
        given. An empty collection still costs exactly one request.
        """
        decoder = _list_decoder(item_type if item_type is not None else dict[str, Any])
        path = resource.path(namespace)
        accept = METADATA_ONLY_LIST if metadata_only else "application/json"
        token: str | None = None
        while True:
            query: list[tuple[str, Any]] = [("limit", page_size)]
            if label_selector:
                query.append(("labelSelector", label_selector))
            if field_selector:
                query.append(("fieldSelector", field_selector))
            if token:
                query.append(("continue", token))
            page = _decode(decoder, self._request(path, query, accept), path)
            yield page.items or []
            token = page.metadata.continue_
            if not token:
                return

    def get(
        self, resource: Resource, namespace: str | None, name: str, *, metadata_only: bool = False
    ) -> dict[str, Any]:
        accept = METADATA_ONLY_GET if metadata_only else "application/json"
        path = resource.path(namespace, name)
        return _decode(_any_decoder, self._request(path, [], accept), path)

    # -- transport ---------------------------------------------------------
    def _request(self, path: str, query: list[tuple[str, Any]], accept: str) -> bytes:
        for attempt in range(1, self.attempts + 1):
            try:
                return self._once(path, query, accept)
            except RetryableError as exc:
                if attempt == self.attempts:
                    raise
                delay = exc.retry_after if exc.retry_after is not None else self.backoff * attempt
                time.sleep(min(delay, self.max_backoff))
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, path: str, query: list[tuple[str, Any]], accept: str) -> bytes:
        where = f"GET {path} on {self.cluster}"
        self.requests += 1
        try:
            method, url, headers, _body, _post = self.api_client.param_serialize(
                "GET",
                path,
                query_params=query,
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
            )
            response = self.api_client.call_api(
                method,
                url,
                header_params=headers,
                _request_timeout=(self.timeouts.connect, self.timeouts.read),
            )
            data = response.read()
        except urllib3.exceptions.SSLError as exc:
            raise PermanentError(f"{where}: TLS error: {exc}", system=SYSTEM) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Refused, reset, DNS, connect/read timeouts: the cluster may come back.
            raise RetryableError(f"{where}: {type(exc).__name__}: {exc}", system=SYSTEM) from exc
        except ConfigException as exc:  # token refresh (exec plugin) failed
            raise PermanentError(f"{where}: {exc}", system=SYSTEM) from exc
        status = response.status
        if 200 <= status < 300:
            return data
        raise _status_error(where, status, data, response.getheader("Retry-After"))


_any_decoder = msgspec.json.Decoder(dict[str, Any])


def _decode(decoder: msgspec.json.Decoder, data: bytes, path: str) -> Any:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        # Valid JSON of an unexpected shape: the API differs from what we read.
        raise PermanentError(f"GET {path}: unexpected response: {exc}", system=SYSTEM) from exc
    except msgspec.DecodeError as exc:
        # Typically a proxy's HTML error page; worth another try later.
        raise RetryableError(f"GET {path}: invalid JSON body: {exc}", system=SYSTEM) from exc


def _status_error(where: str, status: int, data: bytes, retry_after: str | None):
    try:
        message = str(_any_decoder.decode(data).get("message", ""))
    except msgspec.MsgspecError:
        message = data[:200].decode("utf-8", "replace")
    text = f"{where}: HTTP {status}: {message}"
    if status in _RETRYABLE_STATUS or status >= 500:
        delay = None
        try:
            delay = float(retry_after) if retry_after else None
        except ValueError:
            delay = None
        return RetryableError(text, system=SYSTEM, status=status, retry_after=delay)
    return PermanentError(text, system=SYSTEM, status=status)


# -- building clients -------------------------------------------------------


def _finish(cfg: k8s.Configuration, cluster: str, **options: Any) -> KubeClient:
    # urllib3's own retries would multiply our timeouts and hide the cause;
    # KubeClient retries pages itself, within a bound.
    cfg.retries = False
    return KubeClient(k8s.ApiClient(cfg), cluster=cluster, **options)


def connect_kubeconfig(
    context: str | None = None, *, config_file: str | None = None, **options: Any
) -> KubeClient:
    """A client for ``context`` of a kubeconfig (default: $KUBECONFIG / ~/.kube/config).

    ``options`` go to ``KubeClient`` (timeouts, attempts, backoff).
    """
    cfg = k8s.Configuration()
    try:
        k8s_config.load_kube_config(
            config_file=config_file, context=context, client_configuration=cfg, persist_config=False
        )
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        raise PermanentError(f"kubeconfig context {context!r}: {exc}", system=SYSTEM) from exc
    return _finish(cfg, context or cfg.host, **options)


def connect_in_cluster(**options: Any) -> KubeClient:
    """A client from the pod's ServiceAccount (the portal running in the cluster)."""
    cfg = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=cfg)
    except ConfigException as exc:
        raise PermanentError(f"in-cluster config: {exc}", system=SYSTEM) from exc
    return _finish(cfg, "in-cluster", **options)


def connect_host(
    host: str,
    *,
    token: str | None = None,
    ca_cert: str | None = None,
    verify_ssl: bool = True,
    **options: Any,
) -> KubeClient:
    """A client for an explicit API server URL (tests and the demo use the fake)."""
    cfg = k8s.Configuration(host=host.rstrip("/"))
    if token:
        cfg.api_key = {"authorization": f"Bearer {token}"}
    cfg.ssl_ca_cert = ca_cert
    cfg.verify_ssl = verify_ssl
    # A loopback fake must not be sent to a proxy taken from the environment.
    cfg.proxy = None
    return _finish(cfg, host, **options)
