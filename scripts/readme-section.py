#!/usr/bin/env python3
"""Replace one marked README section with stdin, atomically.

    python3 scripts/readme-section.py git < section.md

The section is the text between <!-- BEGIN name --> and <!-- END name -->.
Several people edit README.md at once; each owns its own section.
"""
import os, re, sys, tempfile

name = sys.argv[1]
path = os.path.join(os.path.dirname(__file__), "..", "README.md")
body = sys.stdin.read().strip("\n")
with open(path) as f:
    text = f.read()
pat = re.compile(r"(<!-- BEGIN %s -->\n).*?(<!-- END %s -->)" % (re.escape(name), re.escape(name)), re.S)
if not pat.search(text):
    sys.exit("no section %r in README.md" % name)
text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text, count=1)
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
with os.fdopen(fd, "w") as f:
    f.write(text)
os.replace(tmp, path)
