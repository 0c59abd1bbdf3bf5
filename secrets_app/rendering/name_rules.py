"""Naming rules shared by the request form, the binding spec and the renderers.

Each ``check_*`` function returns an error message (``str``) or ``None``; they
raise nothing so that callers can attach the message to whatever field (form
field, spec path, command-line line) caused it. Limits follow Kubernetes
(DNS-1123), AWS IAM and Secrets Manager, and the Secrets Store CSI driver's
AWS provider (see ``design/DOMAIN.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from secrets_app.rendering import forbidden


def strict(pattern: str) -> re.Pattern[str]:
    r"""A pattern that validates input: the whole value, ASCII only.

    ``\A...\Z`` because Python's ``$`` also matches before a trailing
    newline ("deploy\n" would pass ``^[a-z]+$``); ``re.ASCII`` because
    ``\d``, ``\w`` and ``\s`` otherwise accept Arabic-Indic digits, "rôle" and
    fullwidth letters, which AWS, Kubernetes and Terraform refuse later.
    The classes below spell ``[0-9]`` out anyway, so that a pattern copied
    elsewhere stays strict.
    """
    return re.compile(rf"\A(?:{pattern})\Z", re.ASCII)


DNS1123_LABEL = strict(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = strict(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
ENV_VAR_NAME = strict(r"[A-Za-z_][A-Za-z0-9_]*")
# Keys of a Kubernetes Secret's data map.
SECRET_KEY_NAME = strict(r"[-._a-zA-Z0-9]+")
# A mounted file name: one path segment, no hidden files, nothing a shell or
# YAML reader would trip on.
ALIAS_NAME = strict(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}"
_PARTITION = r"aws|aws-cn|aws-us-gov"
NAME_AFFIX = strict(r"[a-z0-9.-]*")
ACCOUNT_ID = strict(r"[0-9]{12}")
REGION = strict(_REGION)
IAM_ROLE_NAME = strict(r"[A-Za-z0-9_+=,.@-]+")
SECRET_NAME = strict(r"[A-Za-z0-9/_+=.@-]+")
SECRET_ARN = strict(
    rf"arn:(?P<partition>{_PARTITION}):secretsmanager:(?P<region>{_REGION}):"
    r"(?P<account>[0-9]{12}):secret:(?P<name>[A-Za-z0-9/_+=.@-]+?)(-(?P<suffix>[A-Za-z0-9]{6}))?"
)
OIDC_ISSUER = strict(r"oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+")
KMS_KEY_ARN = strict(
    rf"arn:(?P<partition>{_PARTITION}):kms:(?P<region>{_REGION}):(?P<account>[0-9]{{12}}):"
    r"key/[A-Za-z0-9-]+"
)
# The portal's read-only role in a cluster's account (Cluster.aws_role_arn):
# IAM role paths and names.
IAM_ROLE_ARN = strict(
    rf"arn:(?:{_PARTITION}):iam::[0-9]{{12}}:role/([A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{{1,64}}"
)

MAX_LABEL = 63
MAX_SUBDOMAIN = 253
MAX_ROLE_NAME = 64
MAX_POLICY_NAME = 128
MAX_SECRET_NAME = 512

#: Secret types the driver can sync (secretObjects[].type).
SYNC_SECRET_TYPES = (
    "Opaque",
    "kubernetes.io/basic-auth",
    "kubernetes.io/dockerconfigjson",
    "kubernetes.io/dockercfg",
    "kubernetes.io/ssh-auth",
    "kubernetes.io/tls",
)

_ISO_REGION = re.compile(r"-iso([a-z]?)-")

DEFAULT_MOUNT_PATH = "/mnt/secrets-store"
SERVICE_ACCOUNT_SUFFIX = "-secrets"


def is_number(value: str) -> bool:
    """Only ASCII digits: ``str.isdigit`` is also true for "١٢" (which
    ``int`` reads as 12) and "²" (which ``int`` refuses: a 500)."""
    return value.isascii() and value.isdigit()


def built_name(prefix: str, name: str, suffix: str) -> str:
    """The name kustomize gives ``name`` when the layers including the
    Component add ``namePrefix``/``nameSuffix`` (combined over all layers)."""
    return f"{prefix}{name}{suffix}"


def check_name_affix(value: str, what: str = "name prefix") -> str | None:
    """A ``namePrefix``/``nameSuffix`` as it joins a DNS-1123 name: may be empty."""
    if len(value) > MAX_SUBDOMAIN:
        return f"The {what} must be at most {MAX_SUBDOMAIN} characters (it has {len(value)})."
    return _unless_matches(
        NAME_AFFIX,
        value,
        f"The {what} may hold only lower-case letters, digits, '-' and '.' "
        "(kustomize adds it to the names of the ServiceAccount and the class).",
    )


def default_service_account(service: str) -> str:
    """The guide names the ServiceAccount (and the class) ``<service>-secrets``."""
    return f"{service}{SERVICE_ACCOUNT_SUFFIX}"


def partition_of(region: str) -> str:
    """The AWS partition of a region, the first field of its ARNs: the
    cluster's, for the ARNs the portal writes and compares."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    iso = _ISO_REGION.search(region)
    if iso:  # us-iso-east-1: aws-iso; us-isob-east-1: aws-iso-b; eu-isoe-west-1: aws-iso-e
        return f"aws-iso-{iso[1]}" if iso[1] else "aws-iso"
    return "aws"


# DNS suffixes of the partitions whose regions the portal accepts (botocore's
# partitions.json); everything else is in "amazonaws.com".
_DNS_SUFFIXES = {
    "aws-cn": "amazonaws.com.cn",
    "aws-iso": "c2s.ic.gov",
    "aws-iso-b": "sc2s.sgov.gov",
    "aws-iso-e": "cloud.adc-e.uk",
    "aws-iso-f": "csp.hci.ic.gov",
}


def dns_suffix(partition: str) -> str:
    return _DNS_SUFFIXES.get(partition, "amazonaws.com")


def secrets_manager_via(region: str) -> str:
    """The ``kms:ViaService`` value of the KMS calls Secrets Manager makes in
    ``region`` on a caller's behalf (``secretsmanager.us-west-2.amazonaws.com``)."""
    return f"secretsmanager.{region}.{dns_suffix(partition_of(region))}"


def _unless_matches(pattern: re.Pattern[str], value: str, message: str) -> str | None:
    return None if pattern.match(value or "") else message


def _check_dns1123(
    value: str, what: str, *, kind: str, pattern: re.Pattern[str], limit: int, chars: str
) -> str | None:
    if not value:
        return f"The {what} is required."
    if len(value) > limit:
        return f"The {what} must be at most {limit} characters (it has {len(value)})."
    return _unless_matches(
        pattern,
        value,
        f"The {what} must be a DNS-1123 {kind}: lower-case letters, digits{chars}, "
        "starting and ending with a letter or digit.",
    )


def check_dns1123_label(value: str, what: str = "name") -> str | None:
    return _check_dns1123(
        value, what, kind="label", pattern=DNS1123_LABEL, limit=MAX_LABEL, chars=" and '-'"
    )


def check_dns1123_subdomain(value: str, what: str = "name") -> str | None:
    return _check_dns1123(
        value,
        what,
        kind="subdomain",
        pattern=DNS1123_SUBDOMAIN,
        limit=MAX_SUBDOMAIN,
        chars=", '-' and '.'",
    )


def check_env_var_name(value: str) -> str | None:
    return _unless_matches(
        ENV_VAR_NAME,
        value,
        f"'{value}' is not a valid environment variable name: use letters, digits and '_', "
        "not starting with a digit.",
    ) or forbidden.env_var_problem(value)


def check_secret_key_name(value: str) -> str | None:
    if not value or len(value) > MAX_SUBDOMAIN or not SECRET_KEY_NAME.match(value):
        return f"'{value}' is not a valid Secret key: use letters, digits, '-', '_' and '.'."
    return None


def check_alias(value: str) -> str | None:
    """An objectAlias is the mounted file's name, so it is one path segment."""
    if not value:
        return "The alias is required."
    if "/" in value or "\\" in value:
        return f"The alias '{value}' may not contain '/': it is a file name, not a path."
    if ".." in value:
        return f"The alias '{value}' may not contain '..'."
    if len(value) > MAX_SUBDOMAIN:
        return f"The alias must be at most {MAX_SUBDOMAIN} characters."
    if not ALIAS_NAME.match(value):
        return (
            f"The alias '{value}' may use letters, digits, '.', '_' and '-', "
            "and may not start with '.' or '-'."
        )
    return None


def check_mount_path(value: str) -> str | None:
    if not value:
        return "The mount path is required."
    if not value.startswith("/"):
        return "The mount path must be absolute (start with '/')."
    if value.rstrip("/") == "":
        return "The mount path may not be '/'."
    if any(part in (".", "..") for part in value.split("/")):
        return "The mount path may not contain '.' or '..' segments."
    if any(not ch.isascii() or not ch.isprintable() or ch in " :\\" for ch in value):
        return (
            "The mount path may use printable ASCII only, without spaces, ':', '\\' "
            "or control characters."
        )
    if len(value) > 1024:
        return "The mount path is too long."
    return forbidden.mount_path_problem(value)


def check_role_name(value: str) -> str | None:
    if not value:
        return "The role name is required."
    if len(value) > MAX_ROLE_NAME:
        return f"IAM role names are at most {MAX_ROLE_NAME} characters (it has {len(value)})."
    if not IAM_ROLE_NAME.match(value):
        return "IAM role names use ASCII letters, digits and '+=,.@_-' only."
    return None


def check_account_id(value: str) -> str | None:
    return _unless_matches(ACCOUNT_ID, value, "An AWS account id is exactly 12 digits.")


def check_region(value: str) -> str | None:
    return _unless_matches(REGION, value, f"'{value}' is not an AWS region (like us-west-2).")


def check_oidc_issuer(value: str) -> str | None:
    return _unless_matches(
        OIDC_ISSUER,
        value,
        "The OIDC issuer looks like oidc.eks.<region>.amazonaws.com/id/<ID> (without https://).",
    )


def check_kms_key_arn(value: str) -> str | None:
    return _unless_matches(
        KMS_KEY_ARN, value, "A KMS key ARN looks like arn:aws:kms:<region>:<account>:key/<key-id>."
    )


def kms_key_place(value: str) -> tuple[str, str, str] | None:
    """(partition, region, account) of a KMS key ARN, or None if it is not one."""
    match = KMS_KEY_ARN.match(value or "")
    return (match["partition"], match["region"], match["account"]) if match else None


@dataclass(frozen=True)
class SecretRef:
    """A secret named by full ARN, partial ARN (no suffix) or plain name."""

    raw: str
    name: str
    partition: str | None = None
    region: str | None = None
    account: str | None = None
    suffix: str | None = None

    @property
    def is_arn(self) -> bool:
        return self.partition is not None

    @property
    def is_full_arn(self) -> bool:
        return self.suffix is not None

    @property
    def suffix_may_be_name(self) -> bool:
        """Whether the "suffix" may as well be the end of the secret's name.

        ``...:secret:billing/db-master`` is the full ARN of ``billing/db``
        or the partial ARN of ``billing/db-master``: nothing in the text
        tells. Secrets Manager draws its suffix from upper- and lower-case
        letters and digits, so a real one has an upper-case letter 96% of the
        time ((36/62)^6 of suffixes have none), while names are by custom
        lower case. A suffix without an upper-case letter is therefore taken
        as possibly part of the name: the policy grants both readings and the
        spec warns (``checks``). The AWS lookup, when it is on, replaces a
        partial ARN with the full one before the spec is made.
        """
        return self.suffix is not None and not any("A" <= ch <= "Z" for ch in self.suffix)

    @property
    def whole_name(self) -> str:
        """The name with whatever looked like a suffix: the name of the
        partial-ARN reading."""
        return f"{self.name}-{self.suffix}" if self.suffix is not None else self.name


class SecretRefError(ValueError):
    pass


def parse_secret_ref(value: str) -> SecretRef:
    """Parse a Secrets Manager ARN or a plain secret name, or raise SecretRefError.

    The 6-character suffix is optional in the ARN (a partial ARN); the form
    warns about it separately because a partial ARN only works when it
    matches exactly one secret.
    """
    value = (value or "").strip()
    if not value:
        raise SecretRefError("The secret ARN or name is required.")
    if value.startswith("arn:"):
        match = SECRET_ARN.match(value)
        if not match:
            raise SecretRefError(
                "This is not a Secrets Manager secret ARN: expected "
                "arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>-<6 characters>."
            )
        if len(match["name"]) > MAX_SECRET_NAME:
            raise SecretRefError(f"Secret names are at most {MAX_SECRET_NAME} characters.")
        return SecretRef(
            raw=value,
            name=match["name"],
            partition=match["partition"],
            region=match["region"],
            account=match["account"],
            suffix=match["suffix"],
        )
    if len(value) > MAX_SECRET_NAME:
        raise SecretRefError(f"Secret names are at most {MAX_SECRET_NAME} characters.")
    if not SECRET_NAME.match(value):
        raise SecretRefError(
            "A secret name uses letters, digits and '/_+=.@-' only; or give the full ARN."
        )
    return SecretRef(raw=value, name=value)
