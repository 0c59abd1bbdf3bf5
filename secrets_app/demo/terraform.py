"""Real ``terraform`` against an AWS endpoint on loopback (the demo's moto,
or the tests'), offline: the hashicorp/aws provider comes from a filesystem
mirror, never from the registry.

Where to find them (DEVELOPERS.md says the same):

* the binary: ``terraform`` on PATH (1.11 on the project's machines);
* the mirror: the folder holding ``registry.terraform.io/hashicorp/aws``,
  named by ``PORTAL_TF_PROVIDER_MIRROR`` or found at one of the usual
  places (``MIRROR_CANDIDATES``).

A workspace is a folder holding the rendered ``.tf`` files and a generated
``provider.tf``; its CLI configuration, plugin cache and state stay inside
the folder. ``TerraformUnavailable`` says what is missing, so that a caller
can fall back (the demo) or fail with the reason (the tests).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIRROR_ENV = "PORTAL_TF_PROVIDER_MIRROR"
AWS_PROVIDER = Path("registry.terraform.io", "hashicorp", "aws")
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
FIND_COMMAND = (
    "find / -path '*registry.terraform.io/hashicorp/aws' -not -path '/proc/*' 2>/dev/null"
)
PROVIDER_FILE = "provider.tf"
TIMEOUT = 600


class TerraformUnavailable(RuntimeError):
    """The binary or the provider mirror is missing; the message says which and how to fix it."""


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero; the message holds its output."""


def find_terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        raise TerraformUnavailable(
            "terraform is not on PATH (the project's machines have 1.11 in /usr/local/bin)"
        )
    return found


def find_provider_mirror() -> Path:
    """The folder above ``registry.terraform.io/hashicorp/aws``."""
    named = os.environ.get(MIRROR_ENV)
    candidates = [named] if named else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        folder = Path(candidate).expanduser()
        if any(folder.joinpath(AWS_PROVIDER).glob("*/*/terraform-provider-aws*")):
            return folder
    where = f"{MIRROR_ENV}={named}" if named else ", ".join(MIRROR_CANDIDATES)
    raise TerraformUnavailable(
        f"no hashicorp/aws provider mirror at {where}: find the folder holding "
        f"registry.terraform.io/hashicorp/aws ({FIND_COMMAND}) and set {MIRROR_ENV} to the "
        "folder above registry.terraform.io"
    )


def mirrored_version(mirror: Path) -> str:
    versions = sorted(
        (p.name for p in mirror.joinpath(AWS_PROVIDER).iterdir() if p.is_dir()),
        key=lambda v: tuple(int(x) if x.isdigit() else 0 for x in v.split(".")),
    )
    return versions[-1]


def cli_config(mirror: Path) -> str:
    """Providers from the mirror only: ``direct`` excludes every registry
    provider, so nothing is ever downloaded."""
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )


def provider_config(*, endpoint: str, region: str, version: str, role_arn: str = "") -> str:
    """The ``provider.tf`` an infra repository's pipeline would hold, pointed
    at ``endpoint`` for the services the rendered files use, with the
    process's (demo) credentials, in ``role_arn``'s account when given (the
    cluster's, as the portal reaches it), and none of the provider's calls
    to the real AWS."""
    url = json.dumps(endpoint)
    assume = f"  assume_role {{\n    role_arn = {json.dumps(role_arn)}\n  }}\n" if role_arn else ""
    return (
        "terraform {\n"
        "  required_providers {\n"
        f'    aws = {{ source = "hashicorp/aws", version = "{version}" }}\n'
        "  }\n"
        "}\n\n"
        'provider "aws" {\n'
        f"  region                      = {json.dumps(region)}\n"
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_requesting_account_id  = true\n"
        "  skip_region_validation      = true\n"
        "  endpoints {\n"
        f"    iam = {url}\n"
        f"    sts = {url}\n"
        f"    eks = {url}\n"
        "  }\n"
        f"{assume}"
        "}\n"
    )


@dataclass
class Workspace:
    """One Terraform root module in ``folder`` (created when missing)."""

    folder: Path
    terraform: str
    mirror: Path

    @classmethod
    def create(cls, folder: Path, *, endpoint: str, region: str, role_arn: str = "") -> Workspace:
        """Raises ``TerraformUnavailable`` before touching anything."""
        terraform, mirror = find_terraform(), find_provider_mirror()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".terraformrc").write_text(cli_config(mirror))
        (folder / PROVIDER_FILE).write_text(
            provider_config(
                endpoint=endpoint,
                region=region,
                version=mirrored_version(mirror),
                role_arn=role_arn,
            )
        )
        return cls(folder=folder, terraform=terraform, mirror=mirror)

    def write(self, files: dict[str, str]) -> None:
        """Replace the module's .tf files (but ``provider.tf``) by ``files``
        (name -> text): what the infra repository's folder holds now."""
        for old in self.folder.glob("*.tf"):
            if old.name != PROVIDER_FILE and old.name not in files:
                old.unlink()
        for name, text in files.items():
            (self.folder / name).write_text(text)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_PROFILE"))}
        env.update(
            TF_CLI_CONFIG_FILE=str(self.folder / ".terraformrc"),
            TF_PLUGIN_CACHE_DIR=str(self.folder / ".plugin-cache"),
            TF_DATA_DIR=str(self.folder / ".terraform"),
            TF_IN_AUTOMATION="1",
            CHECKPOINT_DISABLE="1",
            AWS_EC2_METADATA_DISABLED="true",
        )
        (self.folder / ".plugin-cache").mkdir(exist_ok=True)
        return env

    def run(self, *args: str) -> str:
        command = [self.terraform, *args]
        # Our own binary and arguments: nothing here comes from input.
        result = subprocess.run(  # noqa: S603
            command,
            cwd=self.folder,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise TerraformFailed(
                f"terraform {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stderr[-4000:]}\n{result.stdout[-2000:]}"
            )
        return result.stdout

    def init(self) -> str:
        return self.run("init", "-input=false", "-no-color")

    def validate(self) -> str:
        return self.run("validate", "-no-color")

    def plan(self) -> str:
        return self.run("plan", "-input=false", "-no-color", "-lock=false")

    def apply(self, targets: tuple[str, ...] = ()) -> str:
        args = ["apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"]
        return self.run(*args, *(f"-target={t}" for t in targets))

    def destroy(self) -> str:
        # What the state holds is what to delete: no need to read it back first.
        args = ["destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false"]
        return self.run(*args, "-refresh=false")

    def state(self) -> list[str]:
        """Addresses of the resources in the state ([] when none)."""
        try:
            return self.run("state", "list").split()
        except TerraformFailed as exc:
            if "No state file" in str(exc):
                return []
            raise
