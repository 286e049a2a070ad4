#!/usr/bin/env python3
"""Generate a synthetic population of households for the country template.

    python3 population.py N SEED > households.jsonl

One JSON line per household, as `rulebook eval --cases` reads it: an `id`,
and the input `household` with its members (role, birth date, monthly salary
and capital returns), rent, accommodation size and occupancy status. Amounts
are whole cents. The same file feeds OpenFisca (openfisca_bench.py), so both
engines see exactly the same population. The distributions are made up.
"""

import datetime as dt
import json
import random
import sys

STATUSES = ["owner", "tenant", "free_lodger", "homeless"]


def cents(r, low, high):
    return f"{r.randint(low * 100, high * 100) / 100:.2f}"


def birth(r, min_age, max_age, on=dt.date(2016, 1, 1)):
    days = r.randint(min_age * 365, max_age * 365 + 364)
    return (on - dt.timedelta(days=days)).isoformat()


def household(r, i):
    members = []
    for _ in range(r.choice([1, 1, 2, 2, 2])):
        members.append({
            "role": "adult",
            "birth": birth(r, 18, 90),
            "salary": "0.00" if r.random() < 0.25 else cents(r, 200, 15000),
            "capital_returns": "0.00" if r.random() < 0.7 else cents(r, 1, 2000),
        })
    for _ in range(r.choice([0, 0, 1, 2, 3])):
        members.append({
            "role": "child",
            "birth": birth(r, 0, 17),
            "salary": "0.00",
            "capital_returns": "0.00",
        })
    return {
        "id": f"h{i}",
        "household": {
            "members": members,
            "rent": cents(r, 0, 2500),
            "accommodation_size": str(r.randint(15, 250)),
            "housing_occupancy_status": r.choice(STATUSES),
        },
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(household(r, i), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
