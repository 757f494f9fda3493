from __future__ import annotations

import os
from pathlib import Path

import pytest

from leviathan_local.atomic import write_atomic, write_atomic_if_unchanged


def test_replaces_content_keeps_mode_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "file.yaml"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["file.yaml"]


def test_compare_before_rename_refuses_when_the_file_changed(tmp_path: Path) -> None:
    target = tmp_path / "file.yaml"
    target.write_bytes(b"human's new version")
    assert write_atomic_if_unchanged(target, b"tool version", expected=b"what the tool read") is False
    assert target.read_bytes() == b"human's new version"
    assert os.listdir(tmp_path) == ["file.yaml"]
    assert write_atomic_if_unchanged(target, b"tool version", expected=b"human's new version") is True
    assert target.read_bytes() == b"tool version"


def test_a_failed_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "file.yaml"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file.yaml"]
