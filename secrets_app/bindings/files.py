"""Which repository files define a binding: what revoking an imported one deletes.

A portal binding recorded the paths its grant wrote when it became active
(``Binding.files``). An imported binding was written by hand, wherever its
authors chose, so its files are searched for on the base branch of the
cluster's infra and deploy repositories, by what they define:

- its ServiceAccount and its SecretProviderClass: YAML documents
  (``yaml.safe_load_all``) of that kind, name and namespace;
- its IAM role: a Terraform ``resource "aws_iam_role"`` whose ``name`` is the
  role's name from ``role_arn`` (``files_terraform``).

A pull request deletes files whole, so the search refuses, with the reasons,
rather than delete what is not the binding's:

- one of the three is not found, or is declared in several files that the
  cluster's name or account in their path does not tell apart (a deploy
  repository shared by clusters holds one copy per cluster);
- a file found also defines something else (a Deployment, another role);
- another file depends on one found (a kustomization lists it; Terraform of
  the same folder refers to what it declares);
- a repository would have nothing to delete (its pull request would be empty).

Files that do not parse (templates, broken YAML or HCL) are skipped. The
repositories are read through ``RepoBackend.read_text_files``: two git
processes locally, two HTTP requests per repository on GitHub (``archives``
says why the tarball).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from secrets_app.bindings import files_terraform
from secrets_app.integrations.backends import REPOSITORIES, backends_for, repository_name
from secrets_app.models import Binding

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml")
#: Kustomization fields that name files; a file named there is needed by it.
KUSTOMIZATION_FILE_FIELDS = ("resources", "components", "bases", "patchesStrategicMerge")


@dataclass(frozen=True)
class Wanted:
    """What defines a binding in the repositories."""

    namespace: str
    service_account: str
    secret_provider_class: str
    role_name: str
    #: Path components that mark a copy as this cluster's (name, EKS name, account).
    hints: tuple[str, ...] = ()

    @classmethod
    def of(cls, binding: Binding) -> Wanted:
        cluster = binding.cluster
        hints = (cluster.name, cluster.eks_cluster_name, cluster.aws_account_id)
        return cls(
            namespace=binding.namespace,
            service_account=binding.service_account,
            secret_provider_class=binding.secret_provider_class,
            role_name=binding.role_arn.rsplit("/", 1)[-1] if binding.role_arn else "",
            hints=tuple(h for h in hints if h),
        )

    def objects(self) -> dict[tuple[str, str, str], str]:
        """(kind, namespace, name) -> how a person reads it."""
        return {
            ("ServiceAccount", self.namespace, self.service_account): (
                f"ServiceAccount {self.namespace}/{self.service_account}"
            ),
            ("SecretProviderClass", self.namespace, self.secret_provider_class): (
                f"SecretProviderClass {self.namespace}/{self.secret_provider_class}"
            ),
        }


@dataclass
class FoundFiles:
    """The paths to delete per repository, or why they cannot be deleted."""

    deletes: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """Where the search looked, for the reasons it gives."""

    names: dict[str, str]  # repository -> its name ("owner/name" or a path)
    base: str

    def __str__(self) -> str:
        return f"{' and '.join(self.names[r] for r in REPOSITORIES)} on {self.base}"


def find_binding_files(binding: Binding) -> FoundFiles:
    """Search the cluster's repositories (base branch) for the files of an
    imported binding. Raises the backends' IntegrationError when a
    repository cannot be read."""
    cluster = binding.cluster
    backends = backends_for(cluster)
    trees = {r: backends[r].read_text_files(cluster.base_branch) for r in REPOSITORIES}
    where = Where({r: repository_name(cluster, r) for r in REPOSITORIES}, cluster.base_branch)
    return locate(trees, Wanted.of(binding), where)


def locate(trees: Mapping[str, Mapping[str, str]], wanted: Wanted, where: Where) -> FoundFiles:
    """The search itself, on files already read: {repository: {path: text}}."""
    found = FoundFiles()
    chosen: list[tuple[str, str]] = []  # (repository, path)
    if not wanted.role_name:
        found.problems.append("the binding names no IAM role")
    if not wanted.secret_provider_class:
        found.problems.append("the binding names no SecretProviderClass")

    objects = {key: label for key, label in wanted.objects().items() if key[2]}
    defined = _yaml_definitions(trees, set(objects))
    for key, label in objects.items():
        places = [place for place, docs in defined.items() if key in docs]
        place = _one(places, label, found, wanted, f"the .yaml/.yml files of {where}")
        if place is not None and place not in chosen:
            chosen.append(place)
            others = [d for d in dict.fromkeys(defined[place]) if d not in objects]
            if others:
                names = ", ".join(_describe(d) for d in others)
                found.problems.append(f"{place[1]} also defines {names}")

    if wanted.role_name:
        roles = [
            (r, p, blocks)
            for r in REPOSITORIES
            for p, blocks in files_terraform.role_files(trees[r], wanted.role_name).items()
        ]
        label = f'IAM role {wanted.role_name} (resource "aws_iam_role")'
        place = _one(
            [(r, p) for r, p, _ in roles], label, found, wanted, f"the .tf files of {where}"
        )
        if place is not None:
            chosen.append(place)
            blocks = next(b for r, p, b in roles if (r, p) == place)
            found.problems += files_terraform.role_file_problems(
                place[1], blocks, wanted.role_name, trees[place[0]]
            )

    found.problems += _kustomization_problems(trees, chosen)
    found.deletes = {r: sorted(p for repo, p in chosen if repo == r) for r in REPOSITORIES}
    if not found.problems:
        for repository, paths in found.deletes.items():
            if not paths:
                found.problems.append(
                    f"nothing of the binding is in the {repository} repository "
                    f"({where.names[repository]}): its pull request would be empty"
                )
    return found


# --- YAML ---------------------------------------------------------------------

Doc = tuple[str, str, str] | str  # (kind, namespace, name), or a description


def _yaml_definitions(
    trees: Mapping[str, Mapping[str, str]], keys: set
) -> dict[tuple[str, str], list[Doc]]:
    """{(repository, path): its documents} for the YAML files that define
    one of ``keys`` ((kind, namespace, name))."""
    names = {name for _, _, name in keys}
    out = {}
    for repository in REPOSITORIES:
        for path, text in trees[repository].items():
            # Only files that mention a name are parsed: parsing is the slow part.
            if not path.lower().endswith((".yaml", ".yml")) or not any(n in text for n in names):
                continue
            docs = _documents(text)
            if docs is not None and keys & set(docs):
                out[(repository, path)] = docs
    return out


def _documents(text: str) -> list[Doc] | None:
    """What each document of a YAML file defines; None if it does not parse."""
    try:
        loaded = list(yaml.safe_load_all(text))
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    docs: list[Doc] = []
    for doc in loaded:
        if doc is None:
            continue  # an empty document ("---" at the end) defines nothing
        docs.append(_object_of(doc))
    return docs


def _object_of(doc: Any) -> Doc:
    if not isinstance(doc, dict):
        return "content that is not a Kubernetes object"
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    kind, name = doc.get("kind"), metadata.get("name")
    if not isinstance(kind, str) or not isinstance(name, str):
        return f"a {kind} document" if isinstance(kind, str) else "a document without a kind"
    namespace = metadata.get("namespace")
    return (kind, namespace if isinstance(namespace, str) else "", name)


def _describe(doc: Doc) -> str:
    if isinstance(doc, str):
        return doc
    kind, namespace, name = doc
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


# --- choosing one file, and what depends on it ---------------------------------


def _one(
    places: list[tuple[str, str]], label: str, found: FoundFiles, wanted: Wanted, looked: str
) -> tuple[str, str] | None:
    """The one file that defines ``label``; else a problem and None."""
    if not places:
        found.problems.append(f"{label} is not declared in {looked}")
        return None
    if len(places) > 1:
        # One copy per cluster: keep those whose path names this cluster.
        marked = [rp for rp in places if set(rp[1].split("/")) & set(wanted.hints)]
        if len(marked) != 1:
            paths = ", ".join(p for _, p in places)
            found.problems.append(
                f"{label} is declared in several files ({paths}): the portal cannot tell "
                "which one is this cluster's"
            )
            return None
        places = marked
    return places[0]


def _kustomization_problems(
    trees: Mapping[str, Mapping[str, str]], chosen: list[tuple[str, str]]
) -> list[str]:
    """Kustomizations that list a file to delete: their build would break."""
    problems = []
    for repository, path, listed in _kustomizations(trees):
        for entry in listed:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), entry))
            if (repository, target) in chosen and (repository, path) not in chosen:
                problems.append(f"{path} lists {target}")
    return problems


def _kustomizations(trees: Mapping[str, Mapping[str, str]]) -> Iterator[tuple[str, str, list]]:
    for repository in REPOSITORIES:
        for path, text in trees[repository].items():
            if posixpath.basename(path) not in KUSTOMIZATIONS:
                continue
            try:
                doc = yaml.safe_load(text)
            except (yaml.YAMLError, RecursionError, ValueError):
                continue
            if not isinstance(doc, dict):
                continue
            listed = [
                e for f in KUSTOMIZATION_FILE_FIELDS for e in _strings(doc.get(f)) if "://" not in e
            ]
            for patch in doc.get("patches") or []:
                listed += _strings(patch.get("path") if isinstance(patch, dict) else patch)
            yield repository, path, listed


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
