"""The Spark example (examples/spark/population.py) in Spark's local mode:
the decisions it writes are those `rulebook eval --cases` writes for the
same Parquet population, and its merged impact report is the one
`rulebook diff --cases` gives.

pyspark is installed by `.ci/run`; elsewhere these tests are skipped
unless RULEBOOK_REQUIRE_SPARK=1, which makes a missing pyspark a failure.
"""

import json
import os
import sys

import pyarrow.parquet as pq
import pytest

from conftest import REPO, run_cli

if os.environ.get("RULEBOOK_REQUIRE_SPARK") == "1":
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark")

sys.path.insert(0, str(REPO / "examples" / "spark"))
import population  # noqa: E402

from test_rulebook import HOME_CARE, TEMPLATE, population as home_care_population  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    s = population.session("local[2]")
    yield s
    s.stop()


def sorted_rows(path):
    return pq.read_table(path).sort_by("id").to_pylist()


def assert_spark_decides_as_the_command(spark, tmp_path, rulebook_path, cases, n):
    """The example's decisions of `cases` on Spark are the n rows that
    `rulebook eval --cases` writes for the same file."""
    out = tmp_path / "spark"
    population.decide(spark, str(rulebook_path), spark.read.parquet(str(cases))).write.parquet(str(out))
    expected = tmp_path / "cli.parquet"
    cli = run_cli("eval", str(rulebook_path), "--cases", str(cases), "--output", str(expected))
    assert cli.returncode == 0, cli.stderr
    got = sorted_rows(out)
    assert len(got) == n
    assert got == sorted_rows(expected)


def test_spark_decides_a_population_as_the_command_does(spark, tmp_path):
    cases = tmp_path / "cases.parquet"
    # Dotted columns, a struct, decimals and dates, over several versions.
    pq.write_table(home_care_population(20000), cases, row_group_size=3000)
    assert_spark_decides_as_the_command(spark, tmp_path, HOME_CARE, cases, 20000)


def test_spark_decides_lists_of_records_as_the_command_does(spark, tmp_path):
    lines = tmp_path / "households.jsonl"
    with open(lines, "w") as f:
        for i in range(300):
            members = [
                {"role": "adult", "birth": f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}",
                 "salary": f"{1000 + 13 * i}.{i % 100:02d}", "capital_returns": "0.00"}
            ] + [{"role": "child", "birth": "2012-03-04", "salary": "0.00", "capital_returns": "0.00"}] * (i % 3)
            f.write(json.dumps({"id": f"h{i}", "household": {
                "members": members, "rent": f"{500 + i}.00", "accommodation_size": str(40 + i % 90),
                "housing_occupancy_status": ["owner", "tenant", "free_lodger", "homeless"][i % 4]}}) + "\n")
    cases = tmp_path / "households.parquet"
    converted = run_cli("convert", str(TEMPLATE), "--cases", str(lines), "--output", str(cases), "--date", "2024-01-01")
    assert converted.returncode == 0, converted.stderr
    assert_spark_decides_as_the_command(spark, tmp_path, TEMPLATE, cases, 300)


def test_spark_shard_summaries_merge_into_the_commands_impact_report(spark, tmp_path):
    cases = tmp_path / "cases.parquet"
    pq.write_table(home_care_population(6000).drop_columns(["decision_date"]), cases, row_group_size=1000)
    old, new = HOME_CARE / "2021.rulebook", HOME_CARE / "2022-23.rulebook"
    frame = spark.read.parquet(str(cases)).repartition(3)
    report = population.impact(spark, str(old), str(new), frame, date="2022-03-01")
    cli = run_cli("diff", str(old), str(new), "--cases", str(cases), "--date", "2022-03-01", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)["impact"]
    assert report["cases"] == 6000
    # Row numbers count within a shard, so the largest changes name other rows.
    del report["largest_changes"], expected["largest_changes"]
    assert report == expected
