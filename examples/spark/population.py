"""A population through `rulebook` on Apache Spark.

Each Spark task loads the rulebook once with the `rulebook` Python package
and decides its Arrow batches with `Rulebook.evaluate_batch` (through
`DataFrame.mapInArrow`); the decisions are written as Parquet, one file per
task, with the same columns and the same exact amounts as
`rulebook eval --cases ... --output decisions.parquet` writes.

For an impact analysis, each task summarises its shard of the population
(`rulebook.impact_summary`) and the driver merges the summaries into one
report (`rulebook.impact_report`), as `rulebook diff --cases` reports it.

    python examples/spark/population.py decide RULEBOOK CASES.parquet OUT_DIR [--date D]
    python examples/spark/population.py impact OLD NEW CASES.parquet [--date D]

Spark runs in local mode on every core (`local[*]`); give `--master` for a
cluster, where every worker needs the `rulebook` package and the rulebook
files at the same path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterator, List, Optional

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

import rulebook


def decision_schema(rulebook_path: str, cases: pa.Schema):
    """The Spark schema of the decisions: the Arrow schema the package gives
    for no cases of this shape, converted."""
    empty = pa.Table.from_batches([], schema=cases)
    return from_arrow_schema(rulebook.load(rulebook_path).evaluate_batch(empty).schema)


def decide(spark: SparkSession, rulebook_path: str, cases: DataFrame, date: Optional[str] = None) -> DataFrame:
    """The decisions of every case of `cases` (columns named by input
    path), one row per case."""
    arrow_schema = pa.schema(
        [f.with_name(f.name) for f in to_arrow_schema(cases.schema)]
    )
    cases = _undotted(cases)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        book = rulebook.load(rulebook_path)
        for batch in batches:
            # Spark already runs a task per core: one thread each.
            yield from book.evaluate_batch(_dotted(batch), date=date, threads=1).to_batches()

    return cases.mapInArrow(run, decision_schema(rulebook_path, arrow_schema))


def impact(spark: SparkSession, old_path: str, new_path: str, cases: DataFrame, date: Optional[str] = None) -> dict:
    """The impact of going from `old` to `new` on `cases`: a summary per
    task, merged on the driver into one report."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        old, new = rulebook.load(old_path), rulebook.load(new_path)
        batches = [_dotted(b) for b in batches]
        if batches:
            summary = rulebook.impact_summary(old, new, pa.Table.from_batches(batches), date=date)
            yield pa.RecordBatch.from_pydict({"summary": [summary]})

    summaries: List[str] = [
        row.summary for row in _undotted(cases).mapInArrow(run, "summary string").collect()
    ]
    return rulebook.impact_report(rulebook.load(old_path), rulebook.load(new_path), summaries, date=date)


# Spark cannot pass a column whose name has a dot (`household.size`) to
# `mapInArrow`: it reads the dot as a field of a struct. Such columns travel
# under a name with `/` and get their name back inside the task.
_DOT = "/"


def _undotted(df: DataFrame) -> DataFrame:
    for name in df.columns:
        if "." in name:
            df = df.withColumnRenamed(name, name.replace(".", _DOT))
    return df


def _dotted(batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch.rename_columns([n.replace(_DOT, ".") for n in batch.schema.names])


def session(master: str = "local[*]") -> SparkSession:
    # Tasks run in this interpreter, which has the package, unless told.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(master)
        .appName("rulebook")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    # The tasks' functions are defined here: ship this file to the workers.
    spark.sparkContext.addPyFile(os.path.abspath(__file__))
    return spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--master", default="local[*]")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("decide", help="decide a population, writing Parquet")
    d.add_argument("rulebook")
    d.add_argument("cases")
    d.add_argument("output")
    d.add_argument("--date")
    i = sub.add_parser("impact", help="the impact of a new version on a population, as JSON")
    i.add_argument("old")
    i.add_argument("new")
    i.add_argument("cases")
    i.add_argument("--date")
    args = parser.parse_args()
    spark = session(args.master)
    try:
        cases = spark.read.parquet(args.cases)
        if args.command == "decide":
            decide(spark, args.rulebook, cases, args.date).write.mode("overwrite").parquet(args.output)
        else:
            print(json.dumps(impact(spark, args.old, args.new, cases, args.date), indent=2))
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
