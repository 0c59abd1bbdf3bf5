"""Mount paths and environment variable names a binding may not use, and why.

A binding mounts files into another team's workload and sets environment
variables from secret values, and a secret's value is whatever its writers
put there. Both are refused where they would change what the workload runs
or who it is, rather than only what it reads:

- A mount over a system directory replaces the container's own programs,
  libraries or configuration (``/etc/ld.so.preload``, ``/usr/lib``); a mount
  over the ServiceAccount token directory hides or replaces the pod's
  identity. A mount *above* one of these hides it too (``/var`` hides
  ``/var/run/secrets``), so ancestors are refused as well.
- An environment variable can make a runtime load code (``LD_PRELOAD``,
  ``NODE_OPTIONS``, ``PYTHONPATH``, ``JAVA_TOOL_OPTIONS``), trust another
  certificate authority or send its traffic through a proxy (``SSL_CERT_FILE``,
  ``HTTPS_PROXY``), or fetch AWS credentials from elsewhere or send the pod's
  own to someone else (``AWS_CONTAINER_CREDENTIALS_FULL_URI``,
  ``AWS_CONFIG_FILE`` with a ``credential_process``).

The lists cannot be complete (any program may read any variable); they hold
what the common runtimes and the AWS SDKs read on their own, before the
application's code has a say. Each rule is checked by the renderer's spec
checks, so the page, the API and ``render_binding`` refuse alike.
"""

from __future__ import annotations

import posixpath
import re

#: Directories a mount may be neither at, below, nor above ("/" only as itself).
SYSTEM_DIRECTORIES = (
    "/etc",
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
)
#: Where Kubernetes mounts the ServiceAccount token
#: (``/var/run/secrets/kubernetes.io/serviceaccount``, EKS Pod Identity's and
#: IRSA's tokens beside it). ``/var/run`` is commonly a symlink to ``/run``,
#: so both spellings are listed.
TOKEN_DIRECTORIES = ("/var/run/secrets", "/run/secrets")

#: Names refused exactly, compared case-insensitively (the proxy variables are
#: read in both cases; no workload needs ``path`` and ``PATH`` to differ).
ENV_VAR_NAMES = frozenset(
    {
        # Dynamic loaders, interpreters and runtimes loading code.
        "NODE_OPTIONS",
        "NODE_PATH",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PYTHONHOME",
        "PYTHONINSPECT",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "CLASSPATH",
        "PERL5OPT",
        "PERL5LIB",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "GCONV_PATH",
        "GLIBC_TUNABLES",
        # Shells: files they source, options, the trace prompt (runs
        # substitutions), where commands are found.
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "PS4",
        "PATH",
        # Name resolution.
        "HOSTALIASES",
        "LOCALDOMAIN",
        "RES_OPTIONS",
        # Certificate authorities trusted.
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "AWS_CA_BUNDLE",
        # Proxies (both cases, by the case-insensitive comparison).
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        # Where the AWS SDKs get the pod's credentials: IRSA and Pod Identity
        # set these themselves; a secret's value would swap the identity or
        # send the pod's token to another endpoint.
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    }
)
#: Prefixes refused (case-insensitively): the dynamic loader's ``LD_PRELOAD``
#: and friends, macOS's, glibc's allocator hooks, and AWS endpoint overrides.
ENV_VAR_PREFIXES = ("LD_", "DYLD_", "MALLOC_", "AWS_ENDPOINT_URL")

_SLASHES = re.compile(r"/+")


def normal_path(path: str) -> str:
    """The directory a mount path names: ``//`` collapsed, ``.`` and ``..``
    resolved, no trailing ``/`` (``/mnt/../etc/`` is ``/etc``)."""
    return posixpath.normpath(_SLASHES.sub("/", path))


def _covers(path: str, directory: str) -> bool:
    """A mount at ``path`` replaces ``directory`` or something in it, or hides it."""
    return (
        path == directory
        or path.startswith(directory + "/")
        or directory.startswith(path.rstrip("/") + "/")
    )


def mount_path_problem(path: str) -> str | None:
    """Why a mount at ``path`` (absolute) is refused, or None."""
    normal = normal_path(path)
    if normal == "/":
        return "The mount path may not be '/'."
    for directory in TOKEN_DIRECTORIES:
        if _covers(normal, directory):
            return (
                f"The mount path {normal} would cover {directory}, where Kubernetes mounts "
                "the pod's ServiceAccount token: choose a directory of your own, like "
                "/mnt/secrets-store."
            )
    for directory in SYSTEM_DIRECTORIES:
        if _covers(normal, directory):
            return (
                f"The mount path {normal} would cover the system directory {directory}, "
                "replacing the container's own files: choose a directory of your own, like "
                "/mnt/secrets-store."
            )
    return None


def env_var_problem(name: str) -> str | None:
    """Why an environment variable may not be set from a secret, or None."""
    upper = name.upper()
    if upper in ENV_VAR_NAMES or upper.startswith(ENV_VAR_PREFIXES):
        return (
            f"The environment variable {name} may not be set from a secret: it changes "
            "how the workload loads code, whom it trusts or where its traffic and "
            "credentials go. Set it in the workload's own manifest if it is needed."
        )
    return None
