"""The package: pyproject.toml (PEP 621), and `pip install -e .` giving a `cowviz` command that works anywhere."""
import os
import re
import site
import subprocess
import sys
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _pins():
    pins = {}
    with open(os.path.join(ROOT, "requirements.txt")) as f:
        for line in f:
            m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip())
            if m:
                pins[m.group(1).lower()] = m.group(2)
    return pins


def test_every_dependency_is_pinned_in_the_lock_that_run_and_test_install():
    pins = _pins()
    wanted = _project()["dependencies"] + _project()["optional-dependencies"]["test"]
    for req in wanted:
        name, low = re.match(r"([A-Za-z0-9_.-]+)>=(\S+)", req).groups()
        assert name.lower() in pins, f"{name} is not pinned in requirements.txt"
        assert tuple(map(int, pins[name.lower()].split(".")[:2])) >= tuple(map(int, low.split(".")[:2]))


def test_the_entry_point_is_the_cli():
    assert _project()["scripts"] == {"cowviz": "cowviz.cli:main_exit"}
    from cowviz import cli
    assert callable(cli.main_exit)


def test_pip_install_editable_gives_a_cowviz_command_that_works_from_any_directory(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # The dependencies come from the project's own environment; pip builds the package itself.
    target_site = subprocess.run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(target_site, "project-deps.pth"), "w") as f:
        f.write(site.getsitepackages()[0] + "\n")
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "--no-deps",
                          "-e", ROOT], capture_output=True, text=True, timeout=300)
    if pip.returncode != 0 and re.search(r"connection|resolve|No matching distribution", pip.stderr, re.I):
        pytest.skip(f"no package index to build with: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(venv / "bin" / "cowviz"), "eras"], cwd=elsewhere, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "5.7" and "6.x" in out.stdout
    scenario = os.path.join(ROOT, "scenarios", "01-fork-and-cow.yaml")
    out = subprocess.run([str(venv / "bin" / "cowviz"), "check", scenario], cwd=elsewhere, capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0 and ": ok (" in out.stdout
