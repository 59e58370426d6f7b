"""``check-config`` parses every target URL (nothing sent); ``edgecam notify test`` sends one.

In-process through ``main`` (as tests/reliability does); one run as a subprocess, as by a user.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from edgecam.cli import main
from tests.helpers import DATA, CliResult, run_edgecam
from tests.notify.notes import TOKEN
from tests.notify.receivers import HttpReceiver


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> CliResult:
    code = main(args)
    out = capsys.readouterr()
    return CliResult(code, out.out, out.err)


def _config(tmp_path: Path, urls: dict[str, str], rule_targets: str = "[phone]") -> Path:
    targets = ""
    for name, url in urls.items():
        (tmp_path / f"{name}.url").write_text(url + "\n")
        targets += f"    {name}: {{url_file: {name}.url}}\n"
    config = tmp_path / "edgecam.yaml"
    config.write_text(
        "cameras:\n"
        f"  porch: {{source: {{type: file, path: {DATA / 'vtest.avi'}}}}}\n"
        f"rules:\n  - {{name: people, kind: presence, notify: {rule_targets}}}\n"
        "notify:\n  targets:\n" + targets
    )
    return config


def test_check_config_names_the_file_and_the_problem_without_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = HttpReceiver().start()
    try:
        config = _config(
            tmp_path,
            {
                "phone": f"tgram://{TOKEN}",  # a Telegram URL without a chat and a valid bot token
                "mail": f"frob://{TOKEN}@example.com",
                "hook": f"json://127.0.0.1:{hook.port}/{TOKEN}",
                "gone": "ntfy://ntfy.sh/x",
            },
        )
        (tmp_path / "gone.url").unlink()
        result = _main(["check-config", str(config)], capsys)
    finally:
        hook.stop()
    assert result.code == 2, result.err
    assert TOKEN not in result.err + result.out
    assert f"{tmp_path / 'phone.url'}: Apprise cannot use the URL" in result.err
    assert f"{tmp_path / 'mail.url'}: Apprise cannot use the URL" in result.err
    assert f"{tmp_path / 'gone.url'}: cannot read it (No such file or directory)" in result.err
    assert "hook.url" not in result.err, "a good URL is not a problem"
    assert "Traceback" not in result.err
    assert hook.requests == [], "check-config sends nothing"


def test_check_config_unknown_target_of_a_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, {"phone": "ntfy://ntfy.sh/x"}, rule_targets="[phone, pager]")
    result = _main(["check-config", str(config)], capsys)
    assert result.code == 2
    assert "rules.0.notify.1: unknown notify target 'pager'; known: phone" in result.err


def test_notify_test_sends_one_message_with_a_test_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = HttpReceiver().start()
    try:
        config = _config(tmp_path, {"phone": f"json://127.0.0.1:{hook.port}/{TOKEN}"})
        result = run_edgecam(["notify", "test", "phone", "--config", str(config)])
        unknown = _main(["notify", "test", "pager", "--config", str(config)], capsys)
    finally:
        hook.stop()
    assert result.code == 0, result.err
    assert "notify phone: sent in" in result.out and "with the test image" in result.out
    (got,) = hook.requests
    (attachment,) = got.json()["attachments"]
    assert base64.b64decode(attachment["base64"])[:2] == b"\xff\xd8"  # a JPEG
    assert unknown.code == 2 and "no notify target 'pager'" in unknown.err
    assert TOKEN not in result.out + result.err


def test_notify_test_says_why_it_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    down = HttpReceiver()  # never started
    config = _config(tmp_path, {"phone": f"json://127.0.0.1:{down.port}/{TOKEN}"})
    result = _main(["notify", "test", "phone", "--config", str(config)], capsys)
    assert result.code == 1
    assert "notify phone: not sent (A Connection error occurred" in result.out
    assert TOKEN not in result.out + result.err
