"""Problems found in a binding spec, each tied to the field that caused it."""

from __future__ import annotations

from dataclasses import dataclass


def one_line(text: str) -> str:
    """Escape control characters so that a message is always a single line.

    Messages quote user input (a JMES path can hold a newline); the command
    prints one problem per line and a form shows them in a list.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


@dataclass(frozen=True)
class SpecProblem:
    """One problem: ``path`` names the field, e.g. ``secrets[0].jmes[2].path``.

    Paths use the JSON keys of the spec, dots between object keys and
    ``[i]`` (0-based) for list items; the empty path means the whole spec.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(spec)'}: {self.message}"


class SpecInvalid(ValueError):
    """The spec has one or more problems; all of them are in ``problems``."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class Collector:
    """Accumulates problems and warnings so validation never stops at the first."""

    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []
        self.warnings: list[SpecProblem] = []

    def add(self, path: str, message: str | None) -> None:
        if message:
            self.problems.append(SpecProblem(path, one_line(message)))

    def check(self, path: str, message: str | None) -> None:
        """Add ``message`` unless the reader already rejected the field (wrong
        type, missing): a field is not reported twice."""
        if message and not self.has_problems_under(path):
            self.add(path, message)

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(SpecProblem(path, one_line(message)))

    def has_problems_under(self, prefix: str) -> bool:
        return any(
            p.path == prefix or p.path.startswith((prefix + ".", prefix + "["))
            for p in self.problems
        )


def join(base: str, key: str | int) -> str:
    """``join("secrets", 1) == "secrets[1]"``; ``join("secrets[1]", "alias")``."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key
