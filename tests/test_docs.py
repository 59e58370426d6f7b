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


def test_the_hailo_model_section_in_accelerators_md_validates() -> None:
    import yaml

    from edgecam.detect.config import ModelConfig

    (block,) = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs/accelerators.md").read_text(), re.S)
    model = ModelConfig.model_validate(yaml.safe_load(block)["model"])
    assert model.hef is not None and model.hef.suffix == ".hef" and model.device == "auto"
