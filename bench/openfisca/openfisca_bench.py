#!/usr/bin/env python3
"""Time OpenFisca (openfisca-core + openfisca-country-template) on a population.

    python openfisca_bench.py vectorised HOUSEHOLDS.jsonl PERIOD RESULTS.jsonl
    python openfisca_bench.py single HOUSEHOLDS.jsonl PERIOD COUNT

`vectorised` builds one simulation for the whole population from arrays and
calculates every variable the rulebook outputs; it prints as JSON the
seconds taken by simulation building plus calculation (`seconds`) and from
reading the file to having written the results (`total_seconds`), and
writes each household's disposable income to RESULTS.jsonl so that
compare.py can check the two engines agree.

`single` builds one simulation per household from a situation dictionary,
as a service answering one request at a time would, for the first COUNT
households, and prints the seconds taken.

PERIOD is a month such as 2016-01.
"""

import json
import sys
import time

import numpy as np
from openfisca_core.simulation_builder import SimulationBuilder
from openfisca_country_template import CountryTaxBenefitSystem

HOUSEHOLD_VARIABLES = [
    "household_income", "housing_allowance", "parenting_allowance",
    "meal_price", "swimming_pool_access", "total_benefits", "total_taxes",
    "disposable_income",
]
PERSON_VARIABLES = ["age", "basic_income", "pension", "income_tax", "social_security_contribution"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def calculate_all(sim, period):
    year = period[:4]
    results = {v: sim.calculate(v, period) for v in HOUSEHOLD_VARIABLES}
    results.update({v: sim.calculate(v, period) for v in PERSON_VARIABLES})
    results["housing_tax"] = sim.calculate("housing_tax", year)
    return results


def vectorised(tbs, households, period):
    ids, persons, person_household, roles = [], [], [], []
    for h, case in enumerate(households):
        ids.append(case["id"])
        for m in case["household"]["members"]:
            persons.append(m)
            person_household.append(h)
            roles.append(m["role"])
    birth = np.array([m["birth"] for m in persons], dtype="datetime64[D]")
    salary = np.array([float(m["salary"]) for m in persons], dtype=np.float32)
    capital = np.array([float(m["capital_returns"]) for m in persons], dtype=np.float32)
    hh = [c["household"] for c in households]
    rent = np.array([float(x["rent"]) for x in hh], dtype=np.float32)
    size = np.array([float(x["accommodation_size"]) for x in hh], dtype=np.float32)
    status = np.array([x["housing_occupancy_status"] for x in hh])
    person_ids = [f"{i:012d}" for i in range(len(persons))]
    household_index = np.array(person_household)
    role_array = np.array(roles)

    start = time.perf_counter()
    sb = SimulationBuilder()
    sb.create_entities(tbs)
    sb.declare_person_entity("person", person_ids)
    # OpenFisca orders entities by id; ids that sort in population order
    # keep each household's members, inputs and results together.
    household = sb.declare_entity("household", [f"{h:012d}" for h in range(len(ids))])
    sb.join_with_persons(household, household_index, role_array)
    sim = sb.build(tbs)
    sim.set_input("birth", "ETERNITY", birth)
    sim.set_input("salary", period, salary)
    sim.set_input("capital_returns", period, capital)
    sim.set_input("rent", period, rent)
    sim.set_input("accommodation_size", period, size)
    enum = tbs.variables["housing_occupancy_status"].possible_values
    sim.set_input("housing_occupancy_status", period, enum.encode(status))
    results = calculate_all(sim, period)
    seconds = time.perf_counter() - start
    return seconds, ids, results


def situation(case, period):
    persons, adults, children = {}, [], []
    for i, m in enumerate(case["household"]["members"]):
        name = f"p{i}"
        persons[name] = {
            "birth": {"ETERNITY": m["birth"]},
            "salary": {period: float(m["salary"])},
            "capital_returns": {period: float(m["capital_returns"])},
        }
        (adults if m["role"] == "adult" else children).append(name)
    h = case["household"]
    return {
        "persons": persons,
        "households": {
            "h": {
                "adults": adults,
                "children": children,
                "rent": {period: float(h["rent"])},
                "accommodation_size": {period: float(h["accommodation_size"])},
                "housing_occupancy_status": {period: h["housing_occupancy_status"]},
            }
        },
    }


def single(tbs, households, period):
    situations = [situation(c, period) for c in households]
    start = time.perf_counter()
    for s in situations:
        sim = SimulationBuilder().build_from_entities(tbs, s)
        calculate_all(sim, period)
    return time.perf_counter() - start


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("vectorised", "single"):
        sys.exit(__doc__)
    mode, path, period = sys.argv[1], sys.argv[2], sys.argv[3]
    tbs = CountryTaxBenefitSystem()
    begin = time.perf_counter()
    households = read(path)
    if mode == "vectorised":
        seconds, ids, results = vectorised(tbs, households, period)
        with open(sys.argv[4], "w", encoding="utf-8") as out:
            for i, value in zip(ids, results["disposable_income"]):
                out.write(json.dumps({"id": i, "disposable_income": float(value)}) + "\n")
        total = time.perf_counter() - begin
        print(json.dumps({"mode": mode, "households": len(households), "seconds": seconds,
                          "total_seconds": total}))
    else:
        count = int(sys.argv[4])
        seconds = single(tbs, households[:count], period)
        print(json.dumps({"mode": mode, "households": count, "seconds": seconds}))


if __name__ == "__main__":
    main()
