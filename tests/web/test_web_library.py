"""The scenario library: names, the series, reloading edited files, caching runs."""
from __future__ import annotations

import os
import shutil

import pytest

from cowviz.web.library import Library, WebError
from tests.web.conftest import SCENARIOS


def test_names_include_subfolders_and_the_series_comes_first_in_order():
    lib = Library(SCENARIOS)
    assert lib.names() == ["01-rdma", "02-zero-page", "reference/basic-cow", "reference/broken"]
    assert [e.name for e in lib.series()] == ["01-rdma", "02-zero-page"]


def test_names_that_could_escape_the_folder_are_refused():
    lib = Library(SCENARIOS)
    for bad in ("../app", "/etc/passwd", "a/../../x", "", None, "x\\y"):
        with pytest.raises(WebError):
            lib.entry(bad)


def test_an_edited_file_is_read_again_and_its_runs_are_forgotten(tmp_path):
    shutil.copy(os.path.join(SCENARIOS, "02-zero-page.yaml"), tmp_path / "w.yaml")
    lib = Library(str(tmp_path))
    first = lib.run("w", "5.9")
    assert lib.run("w", "5.9") is first                      # cached
    text = (tmp_path / "w.yaml").read_text().replace("Reads and the zero page", "Edited title")
    (tmp_path / "w.yaml").write_text(text)
    os.utime(tmp_path / "w.yaml", ns=(1, 10**18))
    assert lib.scenario("w").title == "Edited title"
    assert lib.run("w", "5.9") is not first


def test_a_missing_folder_is_an_empty_library(tmp_path):
    assert Library(str(tmp_path / "none")).names() == []
