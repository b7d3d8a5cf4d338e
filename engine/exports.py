#!/usr/bin/env python3
"""Writes the shared library's version script: every function the public
headers declare is exported, nothing else (an API added to a header is
exported without further edits).  Usage: exports.py OUT HEADER..."""
import re
import sys

names = set()
for header in sys.argv[2:]:
    text = open(header, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments name functions too
    text = re.sub(r"//[^\n]*", "", text)
    names.update(re.findall(r"\b(wp_\w+)\s*\(", text))
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("{\n  global:\n")
    for n in sorted(names):
        out.write("    %s;\n" % n)
    out.write("  local:\n    *;\n};\n")
