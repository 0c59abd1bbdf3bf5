"""AWS adapter for one cluster account: secret metadata, EKS clusters, IAM roles.

Read-only and metadata-only. The portal never reads a secret's value, so the
adapter refuses (before any request is sent) every operation that is not in
``ALLOWED_OPERATIONS``; ``docs/aws-permissions.md`` grants exactly that list.

Every failure leaves as ``RetryableError`` or ``PermanentError`` (from
``errors.py``) with AWS's own code and message kept, so Celery tasks can
decide whether to retry without knowing anything about botocore.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from secrets_app.integrations.aws_records import (
    ClusterInfo,
    OidcProviderInfo,
    PodIdentityAssociation,
    RoleInfo,
    RolePolicy,
    SecretInfo,
    SecretRotation,
    SecretSummary,
    arn_parts,
    policy_document,
    strip_scheme,
)
from secrets_app.integrations.errors import IntegrationError, PermanentError, RetryableError
from secrets_app.rendering.name_rules import SECRET_NAME, SecretRefError, parse_secret_ref

SYSTEM = "aws"
AWS_MANAGED_SECRETS_KEY = "alias/aws/secretsmanager"
LIST_PAGE = 100  # ListSecrets' largest page
#: Refresh assumed-role credentials this long before they expire, so a call
#: never starts with credentials that lapse mid-request.
REFRESH_MARGIN_SECONDS = 300.0

#: The only operations the adapter may send, as IAM actions. Reading secret
#: values is deliberately absent.
ALLOWED_OPERATIONS: frozenset[str] = frozenset(
    f"{service}:{operation}"
    for service, operations in {
        "secretsmanager": "DescribeSecret ListSecrets GetResourcePolicy",
        "kms": "DescribeKey",
        "eks": "DescribeCluster ListPodIdentityAssociations DescribePodIdentityAssociation",
        "iam": "GetRole ListAttachedRolePolicies ListRolePolicies GetRolePolicy GetPolicy "
        "GetPolicyVersion ListOpenIDConnectProviders GetOpenIDConnectProvider",
        "sts": "AssumeRole",
    }.items()
    for operation in operations.split()
)

_THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException"}
    | {"TooManyRequestsException", "RequestLimitExceeded", "SlowDown", "PriorRequestNotComplete"}
)
_TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "ServiceUnavailable", "InternalFailure"}
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchEntity", "NotFoundException"})
# What an endpoint that lacks an API answers: moto gives a bare HTTP 404 page
# for EKS Pod Identity; older or partial implementations answer these codes.
_UNSUPPORTED_CODES = frozenset({"404", "UnknownOperationException", "InvalidAction"})


class AwsRetryableError(RetryableError):
    def __init__(self, message: str, *, code: str = "", operation: str = "", **kw: Any):
        super().__init__(message, system=SYSTEM, **kw)
        self.code = code
        self.operation = operation


class AwsPermanentError(PermanentError):
    def __init__(self, message: str, *, code: str = "", operation: str = "", **kw: Any):
        super().__init__(message, system=SYSTEM, **kw)
        self.code = code
        self.operation = operation

    @property
    def not_found(self) -> bool:
        return self.code in NOT_FOUND_CODES


def translate_error(exc: BaseException, operation: str) -> IntegrationError:
    """Map a botocore failure to Retryable/Permanent, keeping AWS's words."""
    if isinstance(exc, IntegrationError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", ""))
        status = meta.get("HTTPStatusCode")
        attempts = int(meta.get("RetryAttempts", 0)) + 1
        message = f"AWS {operation} failed: {code}: {error.get('Message') or exc}"
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        retryable = (
            code in _THROTTLING_CODES
            or code.startswith("Throttl")
            or code in _TRANSIENT_CODES
            or status == 429
            or (status is not None and status >= 500)
        )
        if retryable:
            retry_after = meta.get("HTTPHeaders", {}).get("retry-after")
            return AwsRetryableError(
                message,
                code=code,
                operation=operation,
                status=status,
                retry_after=float(retry_after) if str(retry_after).isdigit() else None,
            )
        return AwsPermanentError(message, code=code, operation=operation, status=status)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        # Connection refused, DNS, connect/read timeouts, dropped connections.
        return AwsRetryableError(f"AWS {operation} failed: {exc}", operation=operation)
    if isinstance(exc, BotoCoreError):
        # No credentials, bad parameters, bad configuration: retrying won't help.
        return AwsPermanentError(f"AWS {operation} failed: {exc}", operation=operation)
    raise exc


Credentials = dict[str, str]


class RoleSessionCache:
    """Assumed-role credentials shared by all adapters of a process, so that a
    task building an adapter per call does not call STS every time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], tuple[Credentials, float]] = {}

    def get(
        self, key: tuple[str, ...], now: float, create: Callable[[], tuple[Credentials, float]]
    ) -> Credentials:
        with self._lock:
            cached = self._entries.get(key)
            if cached and cached[1] - now > REFRESH_MARGIN_SECONDS:
                return cached[0]
            creds, expires_at = create()
            self._entries[key] = (creds, expires_at)
            return creds


DEFAULT_SESSION_CACHE = RoleSessionCache()
_CLIENT_LOCK = threading.Lock()


@functools.cache
def _base_session() -> boto3.Session:
    # One session per process: a new one re-reads botocore's service models
    # (about a second each), and it holds the default chain's credentials.
    # Sessions are not thread-safe, so clients are made under _CLIENT_LOCK.
    return boto3.Session()


class AwsAdapter:
    """One cluster account. Credentials: the default chain, or ``role_arn``
    assumed from it. Endpoint: ``endpoint_url``, else ``AWS_ENDPOINT_URL``."""

    def __init__(
        self,
        *,
        region: str,
        role_arn: str | None = None,
        external_id: str | None = None,
        endpoint_url: str | None = None,
        session_name: str = "secrets-access-portal",
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        page_size: int | None = None,
        session_cache: RoleSessionCache | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.region = region
        self.role_arn = role_arn
        self.external_id = external_id
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.session_name = session_name
        # Bounded retries in botocore's standard mode (exponential backoff with
        # jitter); anything beyond is the Celery task's business.
        self.config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
        )
        self.page_size = page_size  # None: the service's default page size
        self._cache = session_cache or DEFAULT_SESSION_CACHE
        self._clock = clock
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_creds: Credentials | None = None

    # -- plumbing ---------------------------------------------------------

    def _new_client(self, service: str, region: str, creds: Credentials | None) -> Any:
        with _CLIENT_LOCK:
            client = _base_session().client(
                service,
                region_name=region,
                endpoint_url=self.endpoint_url,
                config=self.config,
                **(creds or {}),
            )

        def guard(model: Any, **_: Any) -> None:
            action = f"{service}:{model.name}"
            if action not in ALLOWED_OPERATIONS:
                raise AwsPermanentError(
                    f"{action} is not an operation the portal may call", operation=action
                )

        client.meta.events.register("before-call", guard)
        return client

    def _assume(self) -> tuple[Credentials, float]:
        kwargs: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name}
        if self.external_id:
            kwargs["ExternalId"] = self.external_id
        sts = self._new_client("sts", self.region, None)
        try:
            got = sts.assume_role(**kwargs)["Credentials"]
        except Exception as exc:
            raise translate_error(exc, "sts:AssumeRole") from exc
        creds = {
            "aws_access_key_id": got["AccessKeyId"],
            "aws_secret_access_key": got["SecretAccessKey"],
            "aws_session_token": got["SessionToken"],
        }
        return creds, got["Expiration"].timestamp()

    def _credentials(self) -> Credentials | None:
        if not self.role_arn:
            return None  # the default chain, through the process session
        key = (self.role_arn, self.external_id or "", self.endpoint_url or "", self.region)
        return self._cache.get(key, self._clock(), self._assume)

    def _client(self, service: str, region: str | None = None) -> Any:
        creds = self._credentials()
        if creds is not self._clients_creds:
            # Credentials were refreshed: clients bound to the old ones must go.
            self._clients, self._clients_creds = {}, creds
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self._new_client(service, key[1], creds)
        return self._clients[key]

    def _call(self, service: str, method: str, *, region: str | None = None, **kw: Any) -> Any:
        try:
            return getattr(self._client(service, region), method)(**kw)
        except Exception as exc:
            raise translate_error(exc, f"{service}:{method}") from exc

    def _paginate(self, service: str, method: str, key: str, **kw: Any) -> Iterator[Any]:
        try:
            if self.page_size:
                kw["PaginationConfig"] = {"PageSize": self.page_size}
            for page in self._client(service).get_paginator(method).paginate(**kw):
                yield from page.get(key, [])
        except Exception as exc:
            raise translate_error(exc, f"{service}:{method}") from exc

    # -- Secrets Manager and KMS ------------------------------------------

    def describe_secret(self, secret_id: str, *, with_resource_policy: bool = False) -> SecretInfo:
        """Metadata of one secret (name, partial or full ARN), never its value."""
        region = arn_parts(secret_id)[2] if secret_id.startswith("arn:") else None
        resp = self._call("secretsmanager", "describe_secret", region=region, SecretId=secret_id)
        partition, _, sregion, account, _ = arn_parts(resp["ARN"])
        key_arn, customer = self._resolve_kms_key(resp.get("KmsKeyId"), partition, sregion, account)
        has_policy = None
        if with_resource_policy:
            pol = self._call(
                "secretsmanager", "get_resource_policy", region=sregion, SecretId=resp["ARN"]
            )
            has_policy = bool(pol.get("ResourcePolicy"))
        return SecretInfo(
            arn=resp["ARN"],
            name=resp["Name"],
            account=account,
            region=sregion,
            kms_key_id=key_arn,
            customer_managed_kms=customer,
            version_stages={k: list(v) for k, v in resp.get("VersionIdsToStages", {}).items()},
            has_resource_policy=has_policy,
        )

    def list_secret_rotations(self) -> Iterator[SecretRotation]:
        """Every secret of the adapter's account and region with its current
        version: ListSecrets pages carry ``SecretVersionsToStages`` for 100
        secrets at once (metadata only; never a value)."""
        for item in self._paginate(
            "secretsmanager",
            "list_secrets",
            "SecretList",
            PaginationConfig={"PageSize": LIST_PAGE},
        ):
            yield SecretRotation.from_response(item, "SecretVersionsToStages")

    def secret_rotation(self, secret_id: str) -> SecretRotation:
        """One secret's current version (DescribeSecret: metadata only)."""
        region = arn_parts(secret_id)[2] if secret_id.startswith("arn:") else None
        resp = self._call("secretsmanager", "describe_secret", region=region, SecretId=secret_id)
        return SecretRotation.from_response(resp, "VersionIdsToStages")

    def _resolve_kms_key(
        self, key_id: str | None, partition: str, region: str, account: str
    ) -> tuple[str | None, bool]:
        if not key_id or key_id.endswith(AWS_MANAGED_SECRETS_KEY):
            return None, False
        # Qualify relative ids with the secret's account: a bare "alias/x" would
        # otherwise be looked up in the adapter's account, not the secret's.
        if not key_id.startswith("arn:"):
            resource = key_id if key_id.startswith("alias/") else f"key/{key_id}"
            key_id = f"arn:{partition}:kms:{region}:{account}:{resource}"
        try:
            meta = self._call("kms", "describe_key", region=region, KeyId=key_id)["KeyMetadata"]
        except AwsPermanentError:
            # No kms:DescribeKey on a foreign key: keep what DescribeSecret said
            # and assume customer-managed (AWS-managed keys cannot be shared).
            return key_id, True
        return meta["Arn"], meta.get("KeyManager") != "AWS"

    def search_secrets(self, prefix: str, limit: int = 20) -> list[SecretSummary]:
        """Secrets whose name starts with ``prefix`` (a pasted ARN works too)."""
        prefix = prefix.strip()
        if prefix.startswith("arn:"):
            try:
                prefix = parse_secret_ref(prefix).name
            except SecretRefError:
                return []
        # ListSecrets reads a leading "!" as negation; a name can't have one anyway.
        if not prefix or limit < 1 or not SECRET_NAME.match(prefix):
            return []
        found: list[SecretSummary] = []
        kwargs: dict[str, Any] = {
            "Filters": [{"Key": "name", "Values": [prefix]}],
            "MaxResults": min(100, limit),
        }
        while len(found) < limit:
            resp = self._call("secretsmanager", "list_secrets", **kwargs)
            found.extend(_summary(item) for item in resp.get("SecretList", []))
            if not resp.get("NextToken"):
                break
            kwargs["NextToken"] = resp["NextToken"]
        return found[:limit]

    def list_secrets(self, limit: int = 1000) -> tuple[list[SecretSummary], bool]:
        """The secrets of the account in this region (metadata only), at
        most ``limit`` of them (100 a call), and whether there are more."""
        found: list[SecretSummary] = []
        kwargs: dict[str, Any] = {"MaxResults": 100}
        while True:
            resp = self._call("secretsmanager", "list_secrets", **kwargs)
            found.extend(_summary(item) for item in resp.get("SecretList", []))
            if not resp.get("NextToken"):
                return found[:limit], len(found) > limit
            if len(found) >= limit:
                return found[:limit], True
            kwargs["NextToken"] = resp["NextToken"]

    # -- EKS and OIDC -----------------------------------------------------

    def describe_cluster(self, name: str) -> ClusterInfo:
        cluster = self._call("eks", "describe_cluster", name=name)["cluster"]
        _, _, region, account, _ = arn_parts(cluster["arn"])
        issuer = cluster.get("identity", {}).get("oidc", {}).get("issuer", "")
        return ClusterInfo(
            name=cluster["name"],
            arn=cluster["arn"],
            version=cluster.get("version", ""),
            status=cluster.get("status", ""),
            oidc_issuer=strip_scheme(issuer),
            account=account,
            region=region,
            endpoint=cluster.get("endpoint", ""),
        )

    def get_oidc_provider(self, issuer: str) -> OidcProviderInfo | None:
        """The IAM OIDC provider for a cluster issuer, or None if IAM has none."""
        issuer = strip_scheme(issuer)
        listed = self._call("iam", "list_open_id_connect_providers")
        for entry in listed.get("OpenIDConnectProviderList", []):
            if entry["Arn"].partition(":oidc-provider/")[2] == issuer:
                got = self._call(
                    "iam", "get_open_id_connect_provider", OpenIDConnectProviderArn=entry["Arn"]
                )
                return OidcProviderInfo(
                    arn=entry["Arn"],
                    issuer=issuer,
                    client_ids=tuple(got.get("ClientIDList", [])),
                    thumbprints=tuple(got.get("ThumbprintList", [])),
                )
        return None

    def oidc_provider_exists(self, issuer: str) -> bool:
        return self.get_oidc_provider(issuer) is not None

    def list_pod_identity_associations(
        self, cluster: str, namespace: str, service_account: str
    ) -> list[PodIdentityAssociation] | None:
        """Associations for one ServiceAccount; None when the endpoint has no
        Pod Identity API (moto, old partitions), so callers can say "unknown"."""
        found: list[PodIdentityAssociation] = []
        kwargs: dict[str, Any] = {
            "clusterName": cluster,
            "namespace": namespace,
            "serviceAccount": service_account,
        }
        while True:
            try:
                resp = self._call("eks", "list_pod_identity_associations", **kwargs)
            except AwsPermanentError as exc:
                if exc.code in _UNSUPPORTED_CODES:
                    return None
                raise
            for item in resp.get("associations", []):
                # The summaries carry no role ARN; the description does.
                desc = self._call(
                    "eks",
                    "describe_pod_identity_association",
                    clusterName=cluster,
                    associationId=item["associationId"],
                )["association"]
                found.append(
                    PodIdentityAssociation(
                        association_id=desc["associationId"],
                        association_arn=desc.get("associationArn", ""),
                        cluster=desc.get("clusterName", cluster),
                        namespace=desc["namespace"],
                        service_account=desc["serviceAccount"],
                        role_arn=desc["roleArn"],
                    )
                )
            if not resp.get("nextToken"):
                return found
            kwargs["nextToken"] = resp["nextToken"]

    # -- IAM roles and policies -------------------------------------------

    def get_role(self, name: str) -> RoleInfo:
        role = self._call("iam", "get_role", RoleName=name)["Role"]
        boundary = role.get("PermissionsBoundary") or {}
        return RoleInfo(
            name=role["RoleName"],
            arn=role["Arn"],
            trust_policy=policy_document(role.get("AssumeRolePolicyDocument") or {}),
            path=role.get("Path", "/"),
            permissions_boundary_arn=boundary.get("PermissionsBoundaryArn"),
        )

    def get_managed_policy(
        self, arn: str, kind: Literal["attached", "boundary"] = "attached"
    ) -> RolePolicy:
        """The default version of a managed policy: the one IAM enforces."""
        policy = self._call("iam", "get_policy", PolicyArn=arn)["Policy"]
        version = self._call(
            "iam", "get_policy_version", PolicyArn=arn, VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        return RolePolicy(
            kind=kind,
            name=policy["PolicyName"],
            arn=arn,
            version_id=version["VersionId"],
            document=policy_document(version["Document"]),
        )

    def list_role_policies(self, role_name: str) -> list[RolePolicy]:
        """Attached (default version) and inline permission policies of a role."""
        policies = [
            self.get_managed_policy(item["PolicyArn"])
            for item in self._paginate(
                "iam", "list_attached_role_policies", "AttachedPolicies", RoleName=role_name
            )
        ]
        for name in self._paginate("iam", "list_role_policies", "PolicyNames", RoleName=role_name):
            got = self._call("iam", "get_role_policy", RoleName=role_name, PolicyName=name)
            policies.append(
                RolePolicy(
                    kind="inline", name=name, document=policy_document(got["PolicyDocument"])
                )
            )
        return policies


def _summary(item: dict[str, Any]) -> SecretSummary:
    """One entry of ListSecrets."""
    _, _, region, account, _ = arn_parts(item["ARN"])
    changed = item.get("LastChangedDate")
    return SecretSummary(
        arn=item["ARN"],
        name=item["Name"],
        account=account,
        region=region,
        description=item.get("Description", ""),
        kms_key_id=item.get("KmsKeyId"),
        last_changed=changed.isoformat() if changed else None,
    )
