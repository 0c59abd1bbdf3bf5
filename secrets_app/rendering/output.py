"""Reading a spec file and writing rendered files to a directory."""

from __future__ import annotations

import json
from pathlib import Path

from secrets_app.rendering.layout import UnsafePath, safe_relative
from secrets_app.rendering.problems import SpecInvalid, SpecProblem
from secrets_app.rendering.render import RenderedBinding, render_binding
from secrets_app.rendering.spec import BindingSpec


def load_spec(path: Path) -> BindingSpec:
    """Read and validate a JSON spec file; raise SpecInvalid (also for bad JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecInvalid([SpecProblem("", f"cannot read {path}: {exc}")]) from exc
    except json.JSONDecodeError as exc:
        raise SpecInvalid([SpecProblem("", f"invalid JSON: {exc}")]) from exc
    return BindingSpec.from_dict(data)


def planned_paths(rendered: RenderedBinding, out_dir: Path) -> dict[Path, str]:
    """Target file -> text, every one checked to be under ``out_dir/<repo>/``.

    Computed completely before anything is written, so a bad path means no
    file at all rather than half a binding.
    """
    root = out_dir.resolve()
    planned: dict[Path, str] = {}
    for repo, files in rendered.files.items():
        base = root / safe_relative(repo)
        for rel, text in files.items():
            target = (base / safe_relative(rel)).resolve()
            if not target.is_relative_to(base):
                raise UnsafePath(f"{repo}/{rel} leaves {base}")
            planned[target] = text
    return planned


def write_rendered(rendered: RenderedBinding, out_dir: Path) -> list[Path]:
    """Write the files under ``out_dir/infra/`` and ``out_dir/deploy/``."""
    planned = planned_paths(rendered, out_dir)
    for target, text in planned.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return sorted(planned)


def render_spec_file(spec_path: Path, out_dir: Path) -> tuple[BindingSpec, list[Path]]:
    """What ``manage.py render_binding`` does: load, validate, render, write.
    Returns the spec (its ``warnings`` are for the user) and the files written."""
    spec = load_spec(spec_path)
    return spec, write_rendered(render_binding(spec), out_dir)
