"""``manage.py render_binding`` writes exactly the rendered files, or nothing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from secrets_app.rendering import BindingSpec, render_binding
from tests.rendering.rendering_support import guide_data


def _files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_it_writes_the_rendered_files(tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(guide_data()))
    out = tmp_path / "out"
    stdout = StringIO()
    call_command("render_binding", str(spec_file), "--out", str(out), stdout=stdout)
    rendered = render_binding(BindingSpec.from_dict(guide_data()))
    expected = {
        f"{repo}/{path}": text
        for repo, files in rendered.files.items()
        for path, text in files.items()
    }
    assert _files_under(out) == sorted(expected)
    for rel, text in expected.items():
        assert (out / rel).read_text() == text
    assert len(stdout.getvalue().splitlines()) == len(expected)


def test_a_bad_spec_prints_each_problem_and_writes_nothing(tmp_path):
    data = guide_data(namespace="Bad NS")
    data["secrets"][0]["alias"] = "../x"
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(data))
    out = tmp_path / "out"
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("render_binding", str(spec_file), "--out", str(out), stderr=stderr)
    lines = stderr.getvalue().splitlines()
    assert any(line.startswith("namespace: ") for line in lines)
    assert any(line.startswith("secrets[0].alias: ") for line in lines)
    assert not out.exists()


def test_invalid_json_is_reported(tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text("{not json")
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("render_binding", str(spec_file), "--out", str(tmp_path / "o"), stderr=stderr)
    assert "invalid JSON" in stderr.getvalue()
