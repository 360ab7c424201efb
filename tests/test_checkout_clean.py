"""No test writes into the checkout (issue 32: "tests/test_api_fuzz.py creates the app without a data folder, so
./data/jubao.sqlite3 and secret_key appear during pytest, and the next jubao serve uses them").

conftest.py lists the checkout's untracked, ignored and changed files (`git status --porcelain --ignored`) before
anything is collected; this test, which conftest runs last, lists them again: nothing may be new or rewritten but the
suite's own files (pytest's and Hypothesis's caches, bytecode). Every test writes in its temporary folders only.
"""
import pytest

from conftest import checkout_files


def test_the_suite_leaves_the_checkout_as_it_found_it(pytestconfig):
    before = pytestconfig.checkout_before
    if before is None:
        pytest.skip("not a git checkout")
    after = checkout_files()
    new = sorted(path for path in after if path not in before)
    rewritten = sorted(path for path in after if path in before and after[path] != before[path])
    assert (new, rewritten) == ([], [])
