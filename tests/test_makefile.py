"""The Makefile finds a Python 3.10 by itself, or says what to install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from conftest import PROJECT_ROOT


def copy_build_files(tmp_path) -> None:
    for name in ("Makefile", "requirements.txt", "constraints.txt"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)


def test_without_python_310_make_says_what_to_install(tmp_path) -> None:
    copy_build_files(tmp_path)
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(empty_home), "LANG": "C.UTF-8"}
    result = subprocess.run(["make", "install"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "needs Python 3.10" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_python_310_is_found_from_path_or_pyenv(tmp_path) -> None:
    copy_build_files(tmp_path)
    result = subprocess.run(
        ["make", "-n", "install"], cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True
    )
    found = re.search(r'py="([^"]*)"', result.stdout)
    assert found and found.group(1), result.stdout
    version = subprocess.run([found.group(1), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.10")
