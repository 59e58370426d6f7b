"""The config editor: comments kept, validated by the loader, atomic writes, backups, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgecam.config.loader import load_config
from edgecam.web.editor import ConfigEditor, EditRefused
from tests.helpers import DATA
from tests.web.fakes import Client, FakeView, serving

CONFIG = f"""\
# Porch camera, set up by hand.
cameras:
  porch:
    source: {{type: image, paths: [{DATA / "person.jpg"}]}}
    zones:
      walkway:  # where people walk
        polygon: [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0]]
        enter_frames: 3
rules:
  - {{name: on_walkway, kind: presence, zone: walkway}}  # the important one
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "edgecam.yaml"
    file.write_text(CONFIG)
    return file


def test_areas_replace_the_cameras_and_keep_comments_and_other_keys(path: Path) -> None:
    editor = ConfigEditor(path, True, lambda: True)
    text = editor.with_areas(
        "porch",
        {
            "zones": {
                "walkway": [[0.2, 0.5], [0.9, 0.5], [0.9, 1.0]],
                "door": [[0, 0], [0.3, 0], [0.3, 0.3]],
            },
            "lines": {"gate": [[0.5, 0.0], [0.5, 1.0]]},
            "masks": [[[0.8, 0.0], [1.0, 0.0], [1.0, 0.2]]],
        },
    )
    for comment in ("# Porch camera", "# where people walk", "# the important one"):
        assert comment in text
    assert "polygon: [[0.2, 0.5], [0.9, 0.5], [0.9, 1.0]]" in text and "enter_frames: 3" in text
    assert "door: {polygon: [[0.0, 0.0], [0.3, 0.0], [0.3, 0.3]]}" in text
    assert "  - polygon: [[0.8, 0.0], [1.0, 0.0], [1.0, 0.2]]" in text
    assert "  - {name: on_walkway, kind: presence, zone: walkway}  # the important one" in text
    assert "gate: {points: [[0.5, 0.0], [0.5, 1.0]]}" in text
    editor.validate(text)  # the loader accepts it


def test_apply_writes_atomically_keeps_a_backup_and_reloads(path: Path) -> None:
    reloads: list[str] = []

    def reload() -> bool:
        reloads.append(path.read_text())
        return True

    editor = ConfigEditor(path, True, reload)
    text = editor.with_areas("porch", {"lines": {"gate": [[0.5, 0.0], [0.5, 1.0]]}})
    result = editor.apply(text)
    assert result["ok"] and result["applied"] and reloads == [text]
    assert path.read_text() == text and (path.parent / "edgecam.yaml.bak").read_text() == CONFIG
    assert "gate" in load_config(path).cameras["porch"].lines
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_an_apply_that_changes_nothing_writes_nothing_and_keeps_the_backup(path: Path) -> None:
    reloads: list[bool] = []
    backup = path.parent / "edgecam.yaml.bak"
    backup.write_text("the previous file\n")

    def reload() -> bool:
        reloads.append(True)
        return True

    editor = ConfigEditor(path, True, reload)
    same = editor.with_areas("porch", {"zones": {"walkway": [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0]]}})
    before = path.stat().st_mtime_ns
    result = editor.apply(same)
    assert result == {"ok": True, "written": None, "backup": None, "applied": False}
    assert path.read_text() == CONFIG and path.stat().st_mtime_ns == before
    assert backup.read_text() == "the previous file\n" and reloads == []


def test_a_refused_edit_names_every_problem_and_leaves_the_file(path: Path) -> None:
    reloads: list[bool] = []

    def reload() -> bool:
        reloads.append(True)
        return True

    editor = ConfigEditor(path, True, reload)
    bow_tie = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    text = editor.with_areas(
        "porch", {"zones": {"walkway": bow_tie, "bad name": [[0, 0], [1, 0], [1, 1]]}}
    )
    with pytest.raises(EditRefused) as refused:
        editor.apply(text)
    problems = "\n".join(refused.value.problems)
    assert "crosses itself" in problems and "bad name" in problems
    assert len(refused.value.problems) >= 2
    assert path.read_text() == CONFIG and not (path.parent / "edgecam.yaml.bak").exists()
    assert reloads == []


def test_writing_is_off_unless_enabled(path: Path) -> None:
    with serving(extra={"editor": ConfigEditor(path, False, lambda: True)}) as (_v, server):
        body = {"camera": "porch", "lines": {"gate": [[0.5, 0.0], [0.5, 1.0]]}}
        code, answer = Client(server).json("POST", "/api/config/apply", body)
        assert code == 403 and "allow_config_write" in answer["error"]
        assert Client(server).json("POST", "/api/config/validate", body)[0] == 200
    assert path.read_text() == CONFIG


def test_apply_over_http_then_the_service_reports_the_new_zone(path: Path) -> None:
    view = FakeView()

    def reload() -> bool:
        view.running = load_config(path)
        return True

    with serving(view, extra={"editor": ConfigEditor(path, True, reload)}) as (_v, server):
        api = Client(server)
        body = {
            "camera": "porch",
            "zones": {
                "walkway": [[0.1, 0.5], [0.9, 0.5], [0.9, 1.0]],
                "door": [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]],
            },
        }
        code, answer = api.json("POST", "/api/config/apply", body)
        assert code == 200 and answer["applied"], answer
        assert "door" in view.config().cameras["porch"].zones
        code, answer = api.json("POST", "/api/config/apply", {"camera": "nope", "zones": {}})
        assert code == 422 and "no camera 'nope'" in answer["errors"][0]
        code, answer = api.json("POST", "/api/config/apply", {"yaml": "cameras: [1, 2"})
        assert code == 422 and "YAML syntax error" in answer["errors"][0]
    assert "door" in path.read_text()
