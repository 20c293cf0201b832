"""Print Odoo's requirements.txt with its environment markers resolved.

Odoo 18 pins older, source-only releases for Python 3.11 (lxml 4.9, gevent 22,
cryptography 3.4...) that no longer build against current system libraries,
while its Python 3.12 pins ship wheels that also work on 3.11. We therefore
evaluate the markers as if the interpreter were at least 3.12.

Usage: python3 odoo_requirements.py ODOO_SRC/requirements.txt > reqs.txt
"""

import re
import sys

PY_VERSION_RE = re.compile(r"python_version\s*(==|!=|<=|>=|<|>)\s*'([0-9.]+)'")
PLATFORM_RE = re.compile(r"sys_platform\s*(==|!=)\s*'([a-z0-9]+)'")


def _version(text):
    return tuple(int(part) for part in text.split("."))


def _compare(left, operator, right):
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[operator]


def _marker_holds(marker, python_version):
    # Markers in Odoo's file are conjunctions of simple comparisons only.
    for clause in marker.split(" and "):
        clause = clause.strip()
        match = PY_VERSION_RE.fullmatch(clause)
        if match:
            if not _compare(python_version, match[1], _version(match[2])):
                return False
            continue
        match = PLATFORM_RE.fullmatch(clause)
        if match:
            if not _compare(sys.platform, match[1], match[2]):
                return False
            continue
        raise ValueError(f"unsupported marker: {clause!r}")
    return True


def main(path):
    python_version = max(sys.version_info[:2], (3, 12))
    with open(path, encoding="utf-8") as requirements:
        for line in requirements:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement, _sep, marker = line.partition(";")
            if not marker.strip() or _marker_holds(marker.strip(), python_version):
                print(requirement.strip())


if __name__ == "__main__":
    main(sys.argv[1])
