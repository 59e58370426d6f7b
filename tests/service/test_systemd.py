"""The unit file (systemd-analyze verify and security), the udev rules and the installer."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgecam.config.loader import load_config

SYSTEMD = Path(__file__).parents[2] / "systemd"
EDGECAM = Path(sys.executable).with_name("edgecam")


def _analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    return tool


def _unit_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv's edgecam (verify checks the binary)."""
    unit = tmp_path / "edgecam.service"
    text = (SYSTEMD / "edgecam.service").read_text()
    unit.write_text(text.replace("/opt/edgecam/bin/edgecam", str(EDGECAM)))
    return unit


def test_unit_verifies(tmp_path: Path) -> None:
    assert EDGECAM.is_file(), "install edgecam into the venv: pip install -e ."
    result = subprocess.run(
        [_analyze(), "verify", str(_unit_copy(tmp_path))],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "edgecam.service" not in result.stderr, result.stderr


def test_unit_is_rated_ok_by_systemd_analyze_security() -> None:
    result = subprocess.run(
        [_analyze(), "security", "--offline=true", str(SYSTEMD / "edgecam.service")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    match = re.search(r"Overall exposure level for edgecam.service: ([\d.]+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0 and match.group(2) == "OK", match.group(0)


def test_unit_has_the_service_contract() -> None:
    text = (SYSTEMD / "edgecam.service").read_text()
    for line in (
        "Type=notify", "WatchdogSec=", "Restart=on-failure", "StartLimitBurst=",
        "ExecStartPre=/opt/edgecam/bin/edgecam check-config", "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=edgecam", "ConfigurationDirectory=edgecam", "LoadCredential=mqtt-password:",
        "SupplementaryGroups=video plugdev", "ProtectSystem=strict", "DevicePolicy=closed",
        "SystemCallFilter=@system-service", "MemoryMax=", "DeviceAllow=/dev/hailo0 rw",
    ):  # fmt: skip
        assert line in text, line


def test_sample_config_is_valid() -> None:
    config = load_config(SYSTEMD / "edgecam.yaml")
    assert config.http.address == ("127.0.0.1", 8080) and config.model.device == "auto"


def _install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SYSTEMD / "install.sh"), "--bin", str(EDGECAM), *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_installer_dry_run_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = _install("--dry-run", "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert not root.exists()
    assert f"would run: systemctl --root={root} enable --quiet edgecam.service" in result.stdout
    assert f"would write: {root}/etc/systemd/system/edgecam.service" in result.stdout


def test_installer_into_a_root_prefix_is_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    first = _install("--root", str(root))
    assert first.returncode == 0, first.stderr
    config = root / "etc/edgecam/edgecam.yaml"
    config.write_text(config.read_text() + "# edited by the owner\n")
    second = _install("--root", str(root))
    assert second.returncode == 0, second.stderr
    assert "keeping the existing" in second.stdout
    assert config.read_text().endswith("# edited by the owner\n")
    passwd = (root / "etc/passwd").read_text()
    assert [line.split(":")[0] for line in passwd.splitlines()].count("edgecam") == 1
    unit = (root / "etc/systemd/system/edgecam.service").read_text()
    assert f"ExecStart={EDGECAM} run --config /etc/edgecam/edgecam.yaml" in unit
    wants = root / "etc/systemd/system/multi-user.target.wants/edgecam.service"
    assert wants.is_symlink()
    assert (root / "etc/udev/rules.d/71-edgecam-coral.rules").is_file()
    assert (root / "etc/udev/rules.d/72-edgecam-hailo.rules").is_file()
    assert (root / "usr/share/doc/edgecam/service.md").is_file()  # the unit's Documentation=
    assert (root / "etc/edgecam/mqtt-password").stat().st_mode & 0o777 == 0o600
    assert load_config(config).cameras  # the installed sample passes check-config


def test_udev_rules_cover_both_coral_usb_ids_and_pcie() -> None:
    rules = (SYSTEMD / "71-edgecam-coral.rules").read_text()
    for ident in ('"1a6e"', '"089a"', '"18d1"', '"9302"', 'SUBSYSTEM=="apex"'):
        assert ident in rules
    assert rules.count('GROUP="plugdev"') == 3


def test_udev_rule_gives_the_hailo_to_plugdev() -> None:
    rules = [
        line
        for line in (SYSTEMD / "72-edgecam-hailo.rules").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert rules == [
        'SUBSYSTEM=="hailo_chardev", KERNEL=="hailo[0-9]*", MODE="0660", GROUP="plugdev"'
    ]


def test_installer_refuses_a_venv_the_unit_cannot_see(tmp_path: Path) -> None:
    for venv in ("/home/pi/venv", "/tmp/edgecam", "relative"):
        result = subprocess.run(
            ["sh", str(SYSTEMD / "install.sh"), "--dry-run", "--venv", venv],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result
        assert venv in result.stderr and result.stdout.count("would") == 0
    root_without_bin = subprocess.run(
        ["sh", str(SYSTEMD / "install.sh"), "--root", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert root_without_bin.returncode == 2 and "--root needs --bin" in root_without_bin.stderr


def test_uninstall_keeps_config_and_state_and_purge_removes_them(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert _install("--root", str(root)).returncode == 0
    config, state = root / "etc/edgecam/edgecam.yaml", root / "var/lib/edgecam"
    unit = root / "etc/systemd/system/edgecam.service"
    uninstall = _install("--root", str(root), "--uninstall")
    assert uninstall.returncode == 0, uninstall.stderr
    assert not unit.exists() and not (root / "etc/udev/rules.d/71-edgecam-coral.rules").exists()
    assert not (root / "etc/udev/rules.d/72-edgecam-hailo.rules").exists()
    assert not (root / "etc/systemd/system/multi-user.target.wants/edgecam.service").exists()
    assert config.is_file() and state.is_dir() and "kept" in uninstall.stdout
    assert _install("--root", str(root)).returncode == 0  # back again: the config is kept
    purge = _install("--root", str(root), "--purge")
    assert purge.returncode == 0, purge.stderr
    assert not config.exists() and not state.exists() and not unit.exists()
