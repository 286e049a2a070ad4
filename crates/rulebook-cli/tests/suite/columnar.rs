//! Parquet and Arrow IPC cases and decisions: files written here with the
//! Arrow and Parquet crates (as pandas or Spark would write them), decided
//! by the real binary, and read back.

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, DecimalType};
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Float64Array, Int32Array, RecordBatch,
    StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const HOME_CARE: &str = "rulebooks/helsinki-home-care/2021.rulebook";

fn rulebook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulebook"))
        .args(args)
        .current_dir(crate::repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn read_parquet(path: &Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow_select_concat(&schema, &batches)
}

/// The batches of a small file as one.
fn arrow_select_concat(schema: &arrow_schema::SchemaRef, batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "a small file is one batch");
    assert_eq!(&batches[0].schema(), schema);
    batches[0].clone()
}

/// Household income as a decimal column, size as int32 named by its path,
/// the service as a struct of a float price and an integer: the shapes
/// pandas and Spark write.
fn home_care_cases(incomes: &[i128], sizes: &[i32]) -> RecordBatch {
    let n = incomes.len();
    let ids: ArrayRef = Arc::new(StringArray::from(
        (0..n).map(|i| format!("case-{i}")).collect::<Vec<_>>(),
    ));
    // 2021-06-01 is day 18779 after 1970-01-01.
    let dates: ArrayRef = Arc::new(Date32Array::from(vec![18779; n]));
    let income: ArrayRef = Arc::new(
        Decimal128Array::from(incomes.to_vec())
            .with_precision_and_scale(12, 2)
            .unwrap(),
    );
    let size: ArrayRef = Arc::new(Int32Array::from(sizes.to_vec()));
    let price: ArrayRef = Arc::new(Float64Array::from(vec![40.0; n]));
    let hours: ArrayRef = Arc::new(Int32Array::from(vec![20; n]));
    let service: ArrayRef = Arc::new(StructArray::new(
        Fields::from(vec![
            Field::new("hourly_price", DataType::Float64, true),
            Field::new("hours_per_month", DataType::Int32, true),
        ]),
        vec![price, hours],
        None,
    ));
    RecordBatch::try_from_iter(vec![
        ("id", ids),
        ("decision_date", dates),
        ("household.gross_monthly_income", income),
        ("household.size", size),
        ("service", service),
    ])
    .unwrap()
}

fn decimal_at(batch: &RecordBatch, column: &str, row: usize) -> String {
    let col = batch.column_by_name(column).unwrap();
    let DataType::Decimal128(p, s) = col.data_type() else {
        panic!("{column} is {}", col.data_type());
    };
    Decimal128Type::format_decimal(col.as_primitive::<Decimal128Type>().value(row), *p, *s)
}

#[test]
fn parquet_cases_give_typed_parquet_decisions_equal_to_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.parquet");
    // 900.00 € for one person, 2000.00 € for two.
    write_parquet(&cases, &home_care_cases(&[90000, 200000], &[1, 2]));
    let out_path = dir.path().join("decisions.parquet");
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--cases",
        cases.to_str().unwrap(),
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decisions = read_parquet(&out_path);
    assert_eq!(decisions.num_rows(), 2);
    let schema = decisions.schema();
    assert_eq!(
        schema.field_with_name("hourly_value").unwrap().data_type(),
        &DataType::Decimal128(18, 2)
    );
    assert_eq!(
        schema.field_with_name("decision_date").unwrap().data_type(),
        &DataType::Date32
    );
    let ids = decisions.column_by_name("id").unwrap().as_string::<i32>();
    assert_eq!(ids.value(1), "case-1");
    // The same cases as JSON Lines give the same amounts, digit for digit.
    let jsonl = dir.path().join("cases.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"case-0\",\"decision_date\":\"2021-06-01\",\"household\":{\"gross_monthly_income\":\"900.00\",\"size\":1},\"service\":{\"hourly_price\":\"40\",\"hours_per_month\":20}}\n\
         {\"id\":\"case-1\",\"decision_date\":\"2021-06-01\",\"household\":{\"gross_monthly_income\":\"2000.00\",\"size\":2},\"service\":{\"hourly_price\":\"40\",\"hours_per_month\":20}}\n",
    )
    .unwrap();
    let out = rulebook(&["eval", HOME_CARE, "--cases", jsonl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (row, line) in lines.iter().enumerate() {
        for output in ["hourly_value", "city_pays", "customer_pays"] {
            assert_eq!(
                decimal_at(&decisions, output, row),
                line["outputs"][output].as_str().unwrap(),
                "{output} of row {row}"
            );
        }
    }
    // 900 € for one person in 2021: 32.18 € an hour.
    assert_eq!(decimal_at(&decisions, "hourly_value", 0), "32.18");
    // And the Parquet cases written as JSON Lines decisions are the same bytes.
    let out_p = rulebook(&["eval", HOME_CARE, "--cases", cases.to_str().unwrap()]);
    assert_eq!(text(&out_p.stdout), text(&out.stdout));
}

#[test]
fn a_bad_row_is_an_error_in_its_row_with_its_path_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.parquet");
    // Size 9 is outside `integer 1 to 8`.
    write_parquet(&cases, &home_care_cases(&[90000, 90000], &[1, 9]));
    let out_path = dir.path().join("decisions.arrow");
    let out = rulebook(&[
        "eval",
        HOME_CARE,
        "--cases",
        cases.to_str().unwrap(),
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // The Arrow IPC file holds both rows, the second with its error.
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&out_path).unwrap(), None)
            .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let b = &batches[0];
    assert_eq!(b.num_rows(), 2);
    let eligible = b.column_by_name("eligible").unwrap().as_boolean();
    assert!(eligible.value(0));
    assert!(eligible.is_null(1));
    let errors = b.column_by_name("error").unwrap().as_string::<i32>();
    assert!(errors.is_null(0));
    let error: serde_json::Value = serde_json::from_str(errors.value(1)).unwrap();
    assert_eq!(error["kind"], "input");
    assert_eq!(error["problems"][0]["path"], "household.size");
    assert!(
        error["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("outside the allowed range"),
        "{error}"
    );
}

#[test]
fn an_unknown_column_is_refused_before_any_row_with_the_inputs_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.parquet");
    let batch = home_care_cases(&[90000], &[1]);
    let mut columns: Vec<(String, ArrayRef)> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| (f.name().clone(), c.clone()))
        .collect();
    columns[3].0 = "household.sizee".into();
    write_parquet(&cases, &RecordBatch::try_from_iter(columns).unwrap());
    let out = rulebook(&["eval", HOME_CARE, "--cases", cases.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("column `household.sizee`"), "{err}");
    assert!(err.contains("the inputs are household, service"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn convert_writes_lists_of_records_that_decide_as_the_json_lines_do() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("households.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"h0\",\"household\":{\"members\":[{\"role\":\"adult\",\"birth\":\"1946-12-13\",\"salary\":\"1523.44\",\"capital_returns\":\"0.00\"},{\"role\":\"child\",\"birth\":\"2005-12-02\",\"salary\":\"0.00\",\"capital_returns\":\"0.00\"}],\"rent\":\"1237.96\",\"accommodation_size\":\"181\",\"housing_occupancy_status\":\"tenant\"}}\n\
         {\"id\":\"h1\",\"household\":{\"members\":[{\"role\":\"adult\",\"birth\":\"1989-08-05\",\"salary\":\"8374.88\",\"capital_returns\":\"12.50\"}],\"rent\":\"1824.08\",\"accommodation_size\":\"129.5\",\"housing_occupancy_status\":\"free_lodger\"}}\n",
    )
    .unwrap();
    let template = "bench/openfisca/country_template.rulebook";
    let parquet = dir.path().join("households.parquet");
    let out = rulebook(&[
        "convert",
        template,
        "--cases",
        jsonl.to_str().unwrap(),
        "--output",
        parquet.to_str().unwrap(),
        "--date",
        "2024-01-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let cases = read_parquet(&parquet);
    let household = cases.column_by_name("household").unwrap().as_struct();
    let members = household.column_by_name("members").unwrap();
    let DataType::List(item) = members.data_type() else {
        panic!("members is {}", members.data_type());
    };
    assert!(matches!(item.data_type(), DataType::Struct(_)));
    assert_eq!(members.as_list::<i32>().value(0).len(), 2);
    let from_parquet = rulebook(&["eval", template, "--cases", parquet.to_str().unwrap()]);
    let from_jsonl = rulebook(&[
        "eval",
        template,
        "--cases",
        jsonl.to_str().unwrap(),
        "--date",
        "2024-01-01",
    ]);
    assert_eq!(from_parquet.status.code(), Some(0));
    assert_eq!(text(&from_parquet.stdout), text(&from_jsonl.stdout));
    assert_eq!(text(&from_parquet.stdout).lines().count(), 2);
}

#[test]
fn diff_on_parquet_cases_reports_the_impact_of_the_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.parquet");
    write_parquet(
        &cases,
        &home_care_cases(&[90000, 200000, 50000], &[1, 2, 1]),
    );
    let old = "rulebooks/helsinki-home-care/2021.rulebook";
    let new = "rulebooks/helsinki-home-care/2022-23.rulebook";
    let out = rulebook(&[
        "diff",
        old,
        new,
        "--cases",
        cases.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["impact"]["cases"], 3);
    assert_eq!(v["impact"]["failed"], 0);
    let hv = v["impact"]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["output"] == "hourly_value")
        .unwrap()
        .clone();
    // 900 € for one: 32.18 € → 32.24 €; 2000 € for two: +0.07 €; 500 € is
    // under both limits.
    assert_eq!(hv["changed"], 2);
    assert_eq!(hv["change"]["max"], "0.07");
}

#[test]
fn convert_stops_at_a_bad_case_with_its_place_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("cases.jsonl");
    std::fs::write(
        &jsonl,
        "{\"decision_date\":\"2021-06-01\",\"household\":{\"gross_monthly_income\":\"900.00\",\"size\":1},\"service\":{\"hourly_price\":\"40.00\",\"hours_per_month\":20}}\n\
         {\"decision_date\":\"2021-06-01\",\"household\":{\"gross_monthly_income\":\"900.00\",\"size\":9},\"service\":{\"hourly_price\":\"40.00\",\"hours_per_month\":20}}\n",
    )
    .unwrap();
    let parquet = dir.path().join("cases.parquet");
    let out = rulebook(&[
        "convert",
        HOME_CARE,
        "--cases",
        jsonl.to_str().unwrap(),
        "--output",
        parquet.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("cases.jsonl:2: household.size"), "{err}");
    assert!(err.contains("outside the allowed range"), "{err}");
    assert!(!parquet.exists());
    assert!(!dir.path().join("cases.parquet.partial").exists());
}

#[test]
fn a_file_that_is_not_parquet_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.parquet");
    std::fs::write(&cases, "household.size\n1\n").unwrap();
    let out = rulebook(&["eval", HOME_CARE, "--cases", cases.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("cases.parquet: not a Parquet file"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Households with lists of members, as a Parquet file made by `convert`.
fn households_parquet(dir: &Path, n: usize) -> std::path::PathBuf {
    let jsonl = dir.join("households.jsonl");
    let mut lines = String::new();
    for i in 0..n {
        let members: Vec<String> = (0..1 + i % 4)
            .map(|m| {
                format!(
                    "{{\"role\":\"{}\",\"birth\":\"19{}-0{}-1{}\",\"salary\":\"{}.{:02}\",\"capital_returns\":\"0.00\"}}",
                    if m == 0 { "adult" } else { "child" },
                    50 + (i * 7 + m) % 50,
                    1 + (i + m) % 9,
                    (i + m) % 10,
                    (i * 37 + m * 11) % 5000,
                    i % 100
                )
            })
            .collect();
        lines.push_str(&format!(
            "{{\"id\":\"h{i}\",\"household\":{{\"members\":[{}],\"rent\":\"{}.00\",\"accommodation_size\":\"{}\",\"housing_occupancy_status\":\"tenant\"}}}}\n",
            members.join(","),
            300 + i % 900,
            20 + i % 150
        ));
    }
    std::fs::write(&jsonl, lines).unwrap();
    let parquet = dir.join("households.parquet");
    let out = rulebook(&[
        "convert",
        "bench/openfisca/country_template.rulebook",
        "--cases",
        jsonl.to_str().unwrap(),
        "--output",
        parquet.to_str().unwrap(),
        "--date",
        "2016-01-01",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    parquet
}

/// Damaged copies of a Parquet file (cut short, or with bytes changed
/// anywhere: in pages, levels, the footer) are bad input: exit 3 naming the
/// file, never a crash and never a panic's message; or, when the change
/// only alters a value, a run like any other. No partial file is left.
#[test]
fn a_damaged_parquet_file_is_bad_input_never_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(households_parquet(dir.path(), 2000)).unwrap();
    let damaged = dir.path().join("damaged.parquet");
    let out_file = dir.path().join("decisions.parquet");
    let mut refused = 0;
    // A small deterministic generator, so that a failure can be replayed.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    for k in 0..60 {
        let mut bytes = good.clone();
        if k % 3 == 0 {
            bytes.truncate(next(good.len()));
        } else {
            for _ in 0..1 + next(8) {
                let at = next(bytes.len());
                bytes[at] = next(256) as u8;
            }
        }
        std::fs::write(&damaged, &bytes).unwrap();
        let out = rulebook(&[
            "eval",
            "bench/openfisca/country_template.rulebook",
            "--cases",
            damaged.to_str().unwrap(),
            "--output",
            out_file.to_str().unwrap(),
        ]);
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "damage {k}: {err}");
        assert!(
            !dir.path().join("decisions.parquet.partial").exists(),
            "damage {k}"
        );
        match out.status.code() {
            // The file refused as a whole, by name.
            Some(3) if err.contains("error: ") => {
                refused += 1;
                assert!(err.contains("damaged.parquet"), "damage {k}: {err}");
            }
            // Read whole, with a changed value that a row's check refused
            // (3) or that could not be decided (4), or that passed (0).
            Some(0) | Some(3) | Some(4) => assert!(err.contains("case(s)"), "damage {k}: {err}"),
            other => panic!("damage {k}: exit {other:?}: {err}"),
        }
    }
    assert!(
        refused > 30,
        "only {refused} of 60 damaged files were refused"
    );
}
