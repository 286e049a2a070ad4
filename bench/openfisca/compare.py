#!/usr/bin/env python3
"""Check that OpenFisca and rulebook agree on every household.

    python3 compare.py OPENFISCA_RESULTS.jsonl RULEBOOK_DECISIONS.jsonl

Compares the disposable income of each household, joined by id. OpenFisca
computes in float32 (about seven significant digits), rulebook in exact
decimals, so a difference up to one cent plus one millionth of the amount
counts as agreement. Prints a JSON summary; exits 1 if any household
differs or is missing.
"""

import json
import sys
from decimal import Decimal


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    openfisca = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            openfisca[r["id"]] = r["disposable_income"]
    compared, differ, worst = 0, [], Decimal(0)
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            exact = Decimal(d["outputs"]["disposable_income"])
            theirs = openfisca.pop(d["id"], None)
            if theirs is None:
                differ.append((d["id"], str(exact), None))
                continue
            compared += 1
            gap = abs(exact - Decimal(repr(theirs)))
            worst = max(worst, gap)
            if gap > Decimal("0.01") + abs(exact) * Decimal("0.000001"):
                differ.append((d["id"], str(exact), theirs))
    summary = {
        "compared": compared,
        "differ": len(differ),
        "missing_from_rulebook": len(openfisca),
        "largest_difference": str(worst),
        "first_differences": differ[:5],
    }
    print(json.dumps(summary))
    sys.exit(1 if differ or openfisca else 0)


if __name__ == "__main__":
    main()
