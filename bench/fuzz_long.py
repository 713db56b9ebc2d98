"""The fuzz suite (tests/fuzz) with many more examples than CI runs: `.venv/bin/python bench/fuzz_long.py [N]`.

Prints, per test, how many examples ran and how long it took.  N (default 2000) is the number of
examples per test (COWVIZ_FUZZ_EXAMPLES); the CI profile runs 40.  A failure prints the smallest
failing input: add it to tests/fuzz/corpus/ so it stays a regression test.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    n = sys.argv[1] if len(sys.argv) > 1 else "2000"
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long", "COWVIZ_FUZZ_EXAMPLES": n}
    t = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/fuzz/test_fuzz.py", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics"], cwd=HERE, env=env, text=True, capture_output=True)
    for line in done.stdout.splitlines():
        if "::" in line or "passing examples" in line or "Typical runtimes" in line or "passed" in line or "failed" in line:
            print(line)
    print(f"fuzz_long: {n} examples per test, {time.monotonic() - t:.0f} s, exit {done.returncode}")
    if done.returncode:
        print(done.stdout[-4000:])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
