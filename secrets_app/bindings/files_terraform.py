"""The Terraform side of ``bindings.files``: which ``.tf`` file declares a
binding's IAM role, and whether that file can be deleted whole.

A role file is deletable when everything in it is the role's: the
``aws_iam_role`` itself and, connected to it by references inside the file,
its policy documents, policies, attachments, inline policies, locals and
outputs (what the portal's own rendering puts next to a role). Anything else
(another role, an OIDC provider, a provider or module block) would be deleted
with it, so the file is refused. So is a file that another ``.tf`` file of
its folder (the same Terraform module) refers to: deleting it would break
that module's plan.

Parsed with python-hcl2; a file that does not parse cannot be searched and
is skipped (the role is then "not found" if it was there, which refuses
rather than guesses).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import hcl2
from hcl2.utils import SerializationOptions

_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)

#: Blocks that belong to the role they are connected to: deleting the role
#: deletes them too, as the portal's own Terraform file does.
ROLE_PARTS = frozenset(
    {
        "resource.aws_iam_role_policy",
        "resource.aws_iam_role_policy_attachment",
        "resource.aws_iam_role_policies_exclusive",
        "resource.aws_iam_role_policy_attachments_exclusive",
        "resource.aws_iam_policy",
        "data.aws_iam_policy_document",
        "output",
        "locals",
    }
)


@dataclass(frozen=True)
class Block:
    """One top-level block (one key of a ``locals`` block counts as one)."""

    family: str  # "resource.aws_iam_role", "data.aws_iam_policy_document", "output", ...
    address: str  # how other blocks refer to it: "aws_iam_role.app", "local.x"; "" if they cannot
    label: str  # how a person reads it: 'resource "aws_iam_role" "app"'
    text: str  # its body, for finding references
    name: str | None = None  # its literal ``name`` argument, if any

    def refers_to(self, other: Block) -> bool:
        return bool(other.address) and refers(self.text, other.address)


def refers(text: str, address: str) -> bool:
    """Whether ``text`` names ``address`` as a whole reference (not a longer
    name that starts with it, not the tail of ``data.<address>``)."""
    return re.search(rf"(?<![\w.-]){re.escape(address)}(?![\w-])", text) is not None


def parse_blocks(text: str) -> list[Block] | None:
    """The file's top-level blocks, or None when it does not parse."""
    try:
        parsed = hcl2.loads(text, serialization_options=_OPTIONS)
    except Exception:  # untrusted text: any parser failure means "cannot search it"
        return None
    if not isinstance(parsed, dict):
        return None
    return list(_blocks(parsed))


def _blocks(parsed: Mapping) -> Iterator[Block]:
    for kind, entries in parsed.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict):
                continue
            if kind in ("resource", "data"):
                for type_, named in entry.items():
                    for name, body in named.items() if isinstance(named, dict) else ():
                        prefix = "data." if kind == "data" else ""
                        literal = body.get("name") if isinstance(body, dict) else None
                        yield Block(
                            f"{kind}.{type_}",
                            f"{prefix}{type_}.{name}",
                            f'{kind} "{type_}" "{name}"',
                            repr(body),
                            # An interpolated name ("${var.x}") is no literal name.
                            literal if isinstance(literal, str) and "${" not in literal else None,
                        )
            elif kind == "locals":
                for name, body in entry.items():
                    yield Block("locals", f"local.{name}", f"local {name}", repr(body))
            elif kind in ("output", "variable", "module", "provider"):
                for name, body in entry.items():
                    address = {"variable": f"var.{name}", "module": f"module.{name}"}.get(kind, "")
                    yield Block(kind, address, f'{kind} "{name}"', repr(body))
            else:  # terraform, provider, moved, import, check, ...
                yield Block(kind, "", kind, repr(entry))


def declares_role(blocks: list[Block], role_name: str) -> Block | None:
    for block in blocks:
        if block.family == "resource.aws_iam_role" and block.name == role_name:
            return block
    return None


def role_files(files: Mapping[str, str], role_name: str) -> dict[str, list[Block]]:
    """The ``.tf`` files that declare ``resource "aws_iam_role"`` named
    ``role_name``, with their blocks."""
    found = {}
    for path, text in files.items():
        # Only files that mention both are parsed: parsing is the slow part.
        if not path.endswith(".tf") or "aws_iam_role" not in text or role_name not in text:
            continue
        blocks = parse_blocks(text)
        if blocks is not None and declares_role(blocks, role_name) is not None:
            found[path] = blocks
    return found


def role_file_problems(
    path: str, blocks: list[Block], role_name: str, files: Mapping[str, str]
) -> list[str]:
    """Why the role's file cannot be deleted whole (empty: it can)."""
    role = declares_role(blocks, role_name)
    assert role is not None
    owned = {role}
    grew = True
    while grew:  # the blocks connected to the role, in either direction
        grew = False
        for block in blocks:
            if block in owned or block.family not in ROLE_PARTS:
                continue
            if any(block.refers_to(o) or o.refers_to(block) for o in owned):
                owned.add(block)
                grew = True
    problems = []
    others = [b.label for b in blocks if b not in owned]
    if others:
        problems.append(f"{path} also declares {', '.join(others)}")
    folder = posixpath.dirname(path)
    addresses = [b.address for b in blocks if b.address]
    for other_path, text in sorted(files.items()):
        if other_path == path or not other_path.endswith(".tf"):
            continue
        if posixpath.dirname(other_path) != folder:
            continue
        used = [a for a in addresses if refers(text, a)]
        if used:
            problems.append(f"{other_path} refers to {', '.join(used)} declared in {path}")
    return problems
