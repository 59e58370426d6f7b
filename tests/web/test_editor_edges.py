"""The editor's edges: documents too deep to parse, orphan temporary files, a symlinked config."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from edgecam.web.editor import ConfigEditor
from tests.web.fakes import Client, serving
from tests.web.test_editor import CONFIG


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("JSON 200,000 deep", b"[" * 200_000 + b"]" * 200_000),
        ("YAML 100,000 deep in flow", json.dumps({"yaml": "[" * 100_000}).encode()),
        ("YAML 100,000 deep in block", json.dumps({"yaml": "- " * 100_000 + "x"}).encode()),
    ],
)
def test_too_deep_is_a_400_with_the_reason_before_any_parsing(
    tmp_path: Path, what: str, body: bytes
) -> None:
    path = tmp_path / "edgecam.yaml"
    path.write_text(CONFIG)
    with serving(extra={"editor": ConfigEditor(path, True, lambda: True)}) as (_v, server):
        for route in ("/api/config/validate", "/api/config/apply"):
            start = time.monotonic()
            code, raw, _ = Client(server).request("POST", route, body)
            took = time.monotonic() - start
            assert code == 400, (what, code, raw[:300])
            assert "nested more than 100 levels deep" in json.loads(raw)["error"], raw[:300]
            assert took < 2.0, f"{what}: {took:.1f}s"
    assert path.read_text() == CONFIG


def test_orphan_temporary_files_are_removed_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "edgecam.yaml"
    path.write_text(CONFIG)
    orphan = tmp_path / ".edgecam.yaml.k2j3h4.tmp"  # as a kill -9 during an apply leaves it
    orphan.write_text("half a config")
    other = tmp_path / ".other.yaml.abc.tmp"  # not ours
    other.write_text("someone else's")
    with caplog.at_level(logging.WARNING):
        ConfigEditor(path, True, lambda: True)
    assert not orphan.exists() and other.exists() and path.read_text() == CONFIG
    assert any("interrupted edit" in r.getMessage() for r in caplog.records)


def test_a_symlinked_config_is_written_through_to_its_target(tmp_path: Path) -> None:
    target_dir = tmp_path / "etc"
    target_dir.mkdir()
    target = target_dir / "real.yaml"
    target.write_text(CONFIG)
    link = tmp_path / "edgecam.yaml"
    link.symlink_to(target)
    editor = ConfigEditor(link, True, lambda: True)
    text = editor.with_areas("porch", {"lines": {"gate": [[0.5, 0.0], [0.5, 1.0]]}})
    result = editor.apply(text)
    assert link.is_symlink() and link.resolve() == target  # the link stays a link
    assert target.read_text() == text and "gate" in text
    assert (target_dir / "real.yaml.bak").read_text() == CONFIG
    assert result["backup"] == str(target_dir / "real.yaml.bak")
    assert not list(tmp_path.glob("*.tmp")) and not list(target_dir.glob(".*.tmp"))
