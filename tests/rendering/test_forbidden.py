"""Mounts over system and token directories, and environment variables that
change how a process loads code, are refused by the spec checks, at the
field that asks for them, however the path is spelt."""

from __future__ import annotations

import pytest

from secrets_app.rendering import BindingSpec, forbidden
from tests.rendering.rendering_support import guide_data
from tests.rendering.test_spec_validation import problems, with_sync_key

REFUSED_MOUNTS = [
    "/",
    "/etc",
    "/etc/ssl/certs",
    "/bin",
    "/sbin",
    "/usr",
    "/usr/local/lib",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/var/run/secrets",
    "/var/run/secrets/kubernetes.io/serviceaccount",
    "/var/run/secrets/eks.amazonaws.com/serviceaccount",
    "/run/secrets",
    "/run/secrets/kubernetes.io",
    # Above a token directory: the mount hides it.
    "/var",
    "/var/run",
    "/run",
    # Other spellings of the same directories.
    "//etc",
    "/etc/",
    "///usr//lib/",
    "/var//run/secrets/",
]
ALLOWED_MOUNTS = [
    "/mnt/secrets-store",
    "/mnt/etc",
    "/opt/usr",
    "/libs",
    "/etcetera",
    "/var/lib/app",
    "/var/secrets",
    "/run-secrets",
    "/srv/run/secrets",
    "/app/secrets/",
]
REFUSED_ENV = [
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "ld_audit",
    "DYLD_INSERT_LIBRARIES",
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
    "BASH_ENV",
    "ENV",
    "PATH",
    "SHELLOPTS",
    "PS4",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "MALLOC_CHECK_",
    "HOSTALIASES",
    "LOCALDOMAIN",
    "RES_OPTIONS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONFIG_FILE",
]
ALLOWED_ENV = ["DB_USER", "ENVIRONMENT", "PATH_PREFIX", "MY_LD_FLAGS", "AWS_ACCESS_KEY_ID"]


@pytest.mark.parametrize("path", REFUSED_MOUNTS)
def test_a_mount_over_a_system_or_token_directory_is_refused(path):
    found = problems(guide_data(mount_path=path))
    assert list(found) == ["mount_path"]
    if path != "/":
        assert forbidden.normal_path(path) in found["mount_path"]


@pytest.mark.parametrize("path", ["/mnt/../etc", "/mnt/./x", "/var/run/../run/secrets"])
def test_dot_segments_are_refused_before_anything_else(path):
    assert "'..'" in problems(guide_data(mount_path=path))["mount_path"]


@pytest.mark.parametrize(
    "path", ["/mnt/\uff53\uff45\uff43", "/mnt/sécrets", "/mnt/a\x7fb", "/mnt/a\u2028b"]
)
def test_a_mount_path_is_printable_ascii(path):
    assert "printable ASCII" in problems(guide_data(mount_path=path))["mount_path"]


@pytest.mark.parametrize("path", ALLOWED_MOUNTS)
def test_neighbours_of_those_directories_are_allowed(path):
    assert BindingSpec.from_dict(guide_data(mount_path=path)).mount_path == path


@pytest.mark.parametrize("name", REFUSED_ENV)
def test_an_env_var_that_changes_how_code_loads_is_refused(name):
    found = problems(with_sync_key(env=name))
    assert list(found) == ["secrets[0].sync.keys[1].env"]
    assert f"{name} may not be set from a secret" in found["secrets[0].sync.keys[1].env"]


@pytest.mark.parametrize("name", ALLOWED_ENV)
def test_other_env_vars_are_allowed(name):
    spec = BindingSpec.from_dict(with_sync_key(env=name))
    assert spec.secrets[0].sync.keys[1].env == name


def test_the_lists_are_in_one_place_and_cover_the_issue():
    # Issue #14's list, each refused whatever its case.
    for name in ("LD_PRELOAD", "NODE_OPTIONS", "PYTHONPATH", "BASH_ENV", "ENV", "PATH"):
        assert forbidden.env_var_problem(name.lower())
    for directory in ("/etc", "/bin", "/usr", "/lib64", "/proc", "/sys", "/dev"):
        assert forbidden.mount_path_problem(directory + "/x")
