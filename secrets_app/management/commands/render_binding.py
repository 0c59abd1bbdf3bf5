"""``manage.py render_binding SPEC.json --out DIR``: render one binding to files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from secrets_app.rendering.layout import UnsafePath
from secrets_app.rendering.output import render_spec_file
from secrets_app.rendering.problems import SpecInvalid


class Command(BaseCommand):
    help = "Render a binding spec (JSON) into DIR/infra/ and DIR/deploy/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("spec", type=Path, help="the binding spec, a JSON file")
        parser.add_argument("--out", type=Path, required=True, help="output directory")

    def handle(self, *args: Any, spec: Path, out: Path, **options: Any) -> None:
        try:
            loaded, written = render_spec_file(spec, out)
        except SpecInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"invalid binding spec: {len(exc.problems)} problem(s)") from exc
        except UnsafePath as exc:
            raise CommandError(str(exc)) from exc
        # Allowed but worth a look (a secret in another account, a partial
        # ARN): the same warnings the request page shows.
        for warning in loaded.warnings:
            self.stderr.write(f"warning: {warning}")
        for path in written:
            self.stdout.write(str(path))
