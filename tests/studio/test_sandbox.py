"""The sandbox: a request's path stays inside the storyboard's folder or the cache, symlinks included."""

from __future__ import annotations

import pytest

from storyreel.studio.sandbox import Forbidden, Sandbox


@pytest.fixture()
def box(tmp_path):
    (tmp_path / "project" / "sub").mkdir(parents=True)
    (tmp_path / "project" / "sub" / "a.txt").write_text("a")
    (tmp_path / "secret.txt").write_text("s")
    (tmp_path / "cache").mkdir()
    return Sandbox({"project": tmp_path / "project", "cache": tmp_path / "cache"})


def test_a_path_inside_resolves(box, tmp_path):
    assert box.resolve("project", "sub/a.txt") == (tmp_path / "project" / "sub" / "a.txt").resolve()


@pytest.mark.parametrize("rel", ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "..", "", "C:/x",
                                 "sub\\..\\..\\secret.txt", "a\x00b"])
def test_escaping_paths_are_refused(box, rel):
    with pytest.raises(Forbidden):
        box.resolve("project", rel)


def test_a_symlink_out_of_the_folder_is_refused(box, tmp_path):
    (tmp_path / "project" / "link.txt").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "project" / "out").symlink_to(tmp_path)
    with pytest.raises(Forbidden):
        box.resolve("project", "link.txt")
    with pytest.raises(Forbidden):
        box.resolve("project", "out/secret.txt")


def test_unknown_roots_are_refused(box):
    with pytest.raises(Forbidden):
        box.resolve("home", "x")
