#!/usr/bin/env python3
"""Writes a deterministic population of home-care cases as JSON Lines.

Usage: generate_households.py N [DATE] > cases.jsonl
Each line is a case for the Helsinki home-care voucher (2021 and 2022-23
inputs): household income and size, hourly price and hours of care.
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
date = sys.argv[2] if len(sys.argv) > 2 else None
rng = random.Random(20211)
out = sys.stdout
for _ in range(n):
    size = rng.choices(range(1, 9), weights=[40, 30, 10, 8, 6, 3, 2, 1])[0]
    income = round(rng.lognormvariate(7.4, 0.6), 2)
    case = {
        "household": {"gross_monthly_income": f"{income:.2f}", "size": size},
        "service": {"hourly_price": f"{rng.choice([36, 38, 40, 42, 45]):.2f}", "hours_per_month": rng.choice([4, 8, 10, 12, 20, 30, 40, 50])},
    }
    if date:
        case["decision_date"] = date
    out.write(json.dumps(case, separators=(",", ":")) + "\n")
