"""Chinese first (issue "Chinese first, end to end"): "A test renders every page and the CLI text of a set of
persons in `zh` and fails on any run of Latin words outside an explicit allow-list".

The pages, the API's texts and the command line's summaries are scanned for any Latin word by
tests/test_zh_words.py (issue 32); here, the text `jubao eval --explain` prints, whose "why" tree is being rewritten
in engine/core (its formulas still read `max(0, …)`): no run of two or more Latin words.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_zh_words import PERSONS

ROOT = Path(__file__).resolve().parent.parent
# two or more Latin words in a row ("ningxia Ningxia basic pension", "if this county started earlier")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:/]+[A-Za-z][A-Za-z'’-]*)+")
ALLOWED = [
    re.compile(r"^policies/[\w/.-]+$"),  # file paths (the links to the policy lines)
]


def latin_runs(texts) -> set[str]:
    found = set()
    for text in texts:
        for m in LATIN_RUN.finditer(text):
            if not any(a.match(m.group(0)) for a in ALLOWED):
                found.add(m.group(0))
    return found


@pytest.mark.parametrize("region", sorted(PERSONS))
def test_the_cli_text_reads_in_chinese(region):
    as_of, person = PERSONS[region]
    out = subprocess.run([str(Path(sys.executable).with_name("jubao")), "eval", "--region", region, "--as-of", as_of,
                          "-", "--explain"], input=json.dumps(person), capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert latin_runs(out.stdout.split("\n")) == set()
    assert "见上" in out.stdout or region != "ningxia"  # each figure once (the account's subtree is referred to)
