"""The Python package against the `rulebook` command: the same decisions,
the same errors with the same field paths, exact amounts."""

import datetime
import json
import threading
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rulebook
from conftest import REPO, run_cli

HOME_CARE = REPO / "rulebooks" / "helsinki-home-care"
TEMPLATE = REPO / "bench" / "openfisca" / "country_template.rulebook"

ONE_PERSON = {
    "decision_date": "2021-06-01",
    "household": {"gross_monthly_income": Decimal("900.00"), "size": 1},
    "service": {"hourly_price": "40.00", "hours_per_month": 20},
}


@pytest.fixture(scope="module")
def home_care():
    return rulebook.load(HOME_CARE)


def test_a_folder_loads_every_version(home_care):
    assert home_care.id == "helsinki.home_care"
    assert [v["version"] for v in home_care.versions] == ["2021", "2022-23", "2024-25"]


def test_one_case_is_decided_exactly_as_the_command_does(home_care, tmp_path):
    decision = home_care.evaluate(ONE_PERSON)
    # 900 € for one person in 2021: 32.18 € an hour (the rulebook's own example).
    assert decision["outputs"]["hourly_value"] == Decimal("32.18")
    assert isinstance(decision["outputs"]["city_pays"], Decimal)
    assert decision["version"] == "2021"
    case = tmp_path / "case.json"
    case.write_text(json.dumps(ONE_PERSON, default=str))
    cli = run_cli("eval", str(HOME_CARE), "--input", str(case), "--format", "json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)
    assert {k: Decimal(v) for k, v in expected["outputs"].items()} == decision["outputs"]
    assert expected["eligible"] == decision["eligible"]


def test_the_date_argument_picks_the_version(home_care):
    decision = home_care.evaluate(ONE_PERSON, date=datetime.date(2022, 3, 1))
    assert decision["version"] == "2022-23"
    assert decision["decision_date"] == "2022-03-01"


def test_explain_gives_the_explanation(home_care):
    decision = home_care.evaluate(ONE_PERSON, explain=True)
    assert "explanation" in decision
    assert "explanation_graph" in decision


def test_an_invalid_case_raises_with_the_field_paths(home_care):
    bad = {**ONE_PERSON, "household": {"gross_monthly_income": "900.00", "size": 9}}
    with pytest.raises(rulebook.InvalidCaseError) as e:
        home_care.evaluate(bad)
    assert e.value.problems[0]["path"] == "household.size"
    assert "outside the allowed range" in e.value.problems[0]["message"]
    missing = {k: v for k, v in ONE_PERSON.items() if k != "service"}
    with pytest.raises(rulebook.InvalidCaseError) as e:
        home_care.evaluate(missing)
    assert [p["path"] for p in e.value.problems] == ["service"]


def test_a_float_amount_is_refused_as_inexact(home_care):
    bad = {**ONE_PERSON, "household": {"gross_monthly_income": 900.1, "size": 1}}
    with pytest.raises(rulebook.InvalidCaseError, match="float"):
        home_care.evaluate(bad)


def test_a_date_without_a_version_is_an_invalid_case(home_care):
    with pytest.raises(rulebook.InvalidCaseError) as e:
        home_care.evaluate(ONE_PERSON, date="2030-01-01")
    assert e.value.problems[0]["path"] == "decision_date"


def test_a_rulebook_with_errors_does_not_load_and_lists_them():
    with pytest.raises(rulebook.LoadError) as e:
        rulebook.load(REPO / "crates" / "rulebook" / "tests" / "suite" / "diagnostics" / "cycle.rulebook")
    assert any(err["code"] == "cycle" for err in e.value.errors)
    assert e.value.errors[0]["line"] == 6
    assert "a → b → c → a" in str(e.value)
    with pytest.raises(rulebook.LoadError):
        rulebook.load(REPO / "no-such-folder")


def population(n: int) -> pa.Table:
    incomes = [Decimal(500 + 37 * i) + Decimal("0.25") for i in range(n)]
    return pa.table(
        {
            "id": [f"case-{i}" for i in range(n)],
            "decision_date": pa.array([datetime.date(2021 + i % 3, 6, 1) for i in range(n)]),
            "household.gross_monthly_income": pa.array(incomes, pa.decimal128(12, 2)),
            "household.size": pa.array([1 + i % 8 for i in range(n)], pa.int32()),
            "service": pa.array(
                [{"hourly_price": Decimal("40.00"), "hours_per_month": 10 + i % 30} for i in range(n)],
                pa.struct([("hourly_price", pa.decimal128(8, 2)), ("hours_per_month", pa.int64())]),
            ),
        }
    )


def test_a_table_is_decided_as_the_command_decides_the_parquet_file(home_care, tmp_path):
    table = population(5000)
    out = home_care.evaluate_batch(table)
    assert out.num_rows == 5000
    assert out.schema.field("hourly_value").type == pa.decimal128(18, 2)
    assert out.column("id").to_pylist() == table.column("id").to_pylist()
    assert home_care.last_counts.decided == 5000
    # The version in force on each case's date decides it.
    assert set(out.column("version").to_pylist()) == {"2021", "2022-23"}
    cases = tmp_path / "cases.parquet"
    pq.write_table(table, cases)
    decisions = tmp_path / "decisions.parquet"
    cli = run_cli("eval", str(HOME_CARE), "--cases", str(cases), "--output", str(decisions))
    assert cli.returncode == 0, cli.stderr
    assert pq.read_table(decisions).equals(out)


def test_one_thread_and_every_core_give_the_same_table(home_care):
    table = population(9000)
    assert home_care.evaluate_batch(table, threads=1).equals(home_care.evaluate_batch(table, threads=4))


def test_the_batch_runs_without_the_gil(home_care):
    # While the batch is decided, another Python thread keeps running.
    table = pa.concat_tables([population(5000)] * 20)
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    before = len(ticks)
    home_care.evaluate_batch(table)
    during = len(ticks) - before
    done.set()
    t.join()
    assert during > 10, f"the other thread ran {during} times"


def test_a_pandas_dataframe_is_decided_and_bad_rows_say_why(home_care):
    df = pd.DataFrame(
        {
            "decision_date": ["2022-05-01", "2022-05-01"],
            "household.gross_monthly_income": [Decimal("1000.50"), Decimal("1000.50")],
            "household.size": [2, 0],
            "service.hourly_price": ["40.00", "40.00"],
            "service.hours_per_month": [10, 10],
        }
    )
    out = home_care.evaluate_batch(df).to_pylist()
    assert out[0]["hourly_value"] == Decimal("34.00")
    assert out[0]["error"] is None
    assert out[1]["eligible"] is None
    error = json.loads(out[1]["error"])
    assert error["kind"] == "input"
    assert error["problems"][0]["path"] == "household.size"
    assert home_care.last_counts.invalid == 1


def test_pandas_dates_and_categories_decide_as_texts_do(home_care):
    # pandas keeps dates as datetime64 (timestamps at midnight) and may keep
    # texts as categories (dictionaries): both are read as dates and texts.
    n = 400
    texts = pd.DataFrame(
        {
            "decision_date": [f"202{1 + i % 3}-06-01" for i in range(n)],
            "household.gross_monthly_income": [Decimal(600 + 13 * i) for i in range(n)],
            "household.size": [1 + i % 8 for i in range(n)],
            "service.hourly_price": ["40.00"] * n,
            "service.hours_per_month": [10 + i % 30 for i in range(n)],
        }
    )
    typed = texts.assign(
        decision_date=pd.to_datetime(texts["decision_date"]),
        **{"service.hourly_price": texts["service.hourly_price"].astype("category")},
    )
    assert str(typed["decision_date"].dtype).startswith("datetime64")
    from_texts = home_care.evaluate_batch(texts)
    from_typed = home_care.evaluate_batch(typed)
    assert home_care.last_counts.decided == n
    assert from_typed.equals(from_texts)


def test_an_unknown_column_raises_a_column_error(home_care):
    table = population(3).rename_columns(
        ["id", "decision_date", "household.income", "household.size", "service"]
    )
    with pytest.raises(rulebook.ColumnError) as e:
        home_care.evaluate_batch(table)
    assert e.value.column == "household.income"


def test_lists_of_records_from_a_table_match_the_json_lines(tmp_path):
    template = rulebook.load(TEMPLATE)
    member = pa.struct(
        [("role", pa.string()), ("birth", pa.date32()), ("salary", pa.decimal128(12, 2)),
         ("capital_returns", pa.decimal128(12, 2))]
    )
    households = [
        {"members": [{"role": "adult", "birth": datetime.date(1950, 1, 2), "salary": Decimal("1523.44"),
                      "capital_returns": Decimal("0")},
                     {"role": "child", "birth": datetime.date(2010, 5, 6), "salary": Decimal("0"),
                      "capital_returns": Decimal("0")}],
         "rent": Decimal("900.00"), "accommodation_size": Decimal("81.5"), "housing_occupancy_status": "tenant"},
        {"members": [{"role": "adult", "birth": datetime.date(1989, 8, 5), "salary": Decimal("8374.88"),
                      "capital_returns": Decimal("12.50")}],
         "rent": Decimal("1824.08"), "accommodation_size": Decimal("129"), "housing_occupancy_status": "owner"},
    ]
    table = pa.table({
        "id": ["h0", "h1"],
        "household": pa.array(households, pa.struct([
            ("members", pa.list_(member)), ("rent", pa.decimal128(12, 2)),
            ("accommodation_size", pa.decimal128(8, 1)), ("housing_occupancy_status", pa.string())])),
    })
    out = template.evaluate_batch(table, date="2024-01-01")
    assert template.last_counts.decided == 2
    lines = tmp_path / "households.jsonl"
    lines.write_text("\n".join(json.dumps({"id": f"h{i}", "household": h}, default=str)
                               for i, h in enumerate(households)) + "\n")
    cli = run_cli("eval", str(TEMPLATE), "--cases", str(lines), "--date", "2024-01-01")
    assert cli.returncode == 0, cli.stderr
    for row, line in zip(out.to_pylist(), cli.stdout.splitlines()):
        expected = json.loads(line)["outputs"]
        assert expected, "the decision has outputs"
        for name, value in expected.items():
            # Every output of the template is a number: an age or an amount.
            assert Decimal(str(row[name])) == Decimal(str(value)), name


def test_shard_summaries_merge_into_the_commands_impact_report(home_care, tmp_path):
    old = rulebook.load(HOME_CARE / "2021.rulebook")
    new = rulebook.load(HOME_CARE / "2022-23.rulebook")
    table = population(3000).drop_columns(["decision_date"])
    shards = [table.slice(0, 1000), table.slice(1000, 1500), table.slice(2500)]
    summaries = [rulebook.impact_summary(old, new, s, date="2022-03-01") for s in shards]
    report = rulebook.impact_report(old, new, summaries, date="2022-03-01")
    cases = tmp_path / "cases.parquet"
    pq.write_table(table, cases)
    cli = run_cli("diff", str(HOME_CARE / "2021.rulebook"), str(HOME_CARE / "2022-23.rulebook"),
                  "--cases", str(cases), "--date", "2022-03-01", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)["impact"]
    assert report["cases"] == expected["cases"] == 3000
    assert report["outputs"] == expected["outputs"]
    # Everything but the largest changes, whose row numbers count within a
    # shard, is the same.
    del report["largest_changes"], expected["largest_changes"]
    assert report == expected
