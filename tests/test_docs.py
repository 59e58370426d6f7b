"""The configs shown in the README and docs are valid, so copying them works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edgecam.config import parse_config

ROOT = Path(__file__).parents[1]
FULL_CONFIGS = [("README.md", 0)]


@pytest.mark.parametrize(("doc", "index"), FULL_CONFIGS)
def test_documented_config_validates(doc: str, index: int) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / doc).read_text(), re.S)
    config = parse_config(blocks[index], f"{doc} block {index}", base_dir=ROOT)
    assert config.cameras and config.rules
