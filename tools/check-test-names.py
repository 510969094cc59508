#!/usr/bin/env python3
"""Fails if a doctest case's name would not survive ctest.

doctest_discover_tests hands each case's name to ctest as a list item, and
ctest splits a list on ';': a name with one becomes two tests that each
select no case, and fail. A name that starts or ends with a space is
trimmed, and no longer selects its case either.
"""
import glob
import re
import sys

CASE = re.compile(
    r'TEST_CASE(?:_FIXTURE)?\s*\((?:\s*\w+\s*,)?\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')

root = sys.argv[1] if len(sys.argv) > 1 else "."
bad = []
for path in sorted(glob.glob(f"{root}/tests/**/*.cpp", recursive=True)):
    text = open(path, encoding="utf-8").read()
    for m in CASE.finditer(text):
        name = "".join(LITERAL.findall(m.group(1)))
        line = text.count("\n", 0, m.start()) + 1
        if ";" in name:
            bad.append(f"{path}:{line}: ';' in a test name: {name}")
        elif name != name.strip():
            bad.append(f"{path}:{line}: a test name padded with spaces: {name!r}")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
