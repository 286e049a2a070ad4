//! A version's rules as people look them up, rather than as a case is
//! decided: every parameter with its values and the dates they start, every
//! table with its rows, every eligibility criterion with its reason, and the
//! programmes it uses, each with its citation. The service lists them, and
//! a parameter's values across versions are these outlines side by side.

use crate::ir::{DefBody, DefKind, Program};
use serde::Serialize;

/// One parameter: its values, each from its date (`from` is `None` for a
/// value with no date of its own, in force for the whole version).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterOutline {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub values: Vec<DatedValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatedValue {
    pub from: Option<String>,
    /// As a person reads it (`762.00 €`, `35 %`).
    pub value: String,
}

/// One eligibility criterion: its condition as written and the reason a
/// decision gives when it fails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionOutline {
    pub name: String,
    pub condition: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One decision table: its inputs, its result and its rows' results as
/// people read them, in row order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableOutline {
    pub name: String,
    pub inputs: Vec<String>,
    pub result: String,
    pub hit: String,
    pub rows: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Another programme a version uses, and which of its versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UseOutline {
    pub alias: String,
    pub programme: String,
    pub versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outline {
    pub parameters: Vec<ParameterOutline>,
    pub tables: Vec<TableOutline>,
    pub criteria: Vec<CriterionOutline>,
    pub uses: Vec<UseOutline>,
}

pub fn outline(p: &Program) -> Outline {
    let parameters = p
        .defs
        .iter()
        .filter(|d| d.kind == DefKind::Parameter)
        .filter_map(|d| {
            let DefBody::Dated(values) = &d.body else {
                return None;
            };
            Some(ParameterOutline {
                name: d.name.clone(),
                ty: p.type_name(&d.ty),
                values: values
                    .iter()
                    .map(|(from, v)| DatedValue {
                        from: from.map(|f| f.to_string()),
                        value: p.render(v, &d.ty),
                    })
                    .collect(),
                section: d.citation.section.clone(),
                source: d.citation.source.clone(),
                doc: d.doc.clone(),
            })
        })
        .collect();
    let tables = p
        .tables
        .iter()
        .map(|t| TableOutline {
            name: t.name.clone(),
            inputs: t
                .params
                .iter()
                .map(|(n, ty, _)| format!("{n}: {}", p.type_name(ty)))
                .collect(),
            result: p.type_name(&t.ret),
            hit: t.hit.describe().to_string(),
            rows: t.rows.len(),
            section: t.citation.section.clone(),
            source: t.citation.source.clone(),
        })
        .collect();
    let criteria = p
        .criteria
        .iter()
        .map(|c| CriterionOutline {
            name: c.name.clone(),
            condition: c.formula.clone(),
            reason: c.reason.clone(),
            section: c.citation.section.clone(),
            source: c.citation.source.clone(),
        })
        .collect();
    let uses = p
        .uses
        .iter()
        .map(|u| UseOutline {
            alias: u.alias.clone(),
            programme: u.id.clone(),
            versions: u.versions.iter().map(|v| v.version.clone()).collect(),
        })
        .collect();
    Outline {
        parameters,
        tables,
        criteria,
        uses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dated_parameter_lists_each_value_with_its_date() {
        let text = "rulebook t.o \"O\"\n  version 1\n  in force 2021-01-01\n\ninput h { income: money }\n\nparameter limit: money § 4\n  = 500 € from 2021-01-01\n  = 520 € from 2021-07-01\n\neligibility\n  low: h.income <= limit § 2 else \"the income is over the limit\"\n\noutput o: money = h.income\n";
        let checked = crate::check::check(text);
        let Some(p) = checked.program else {
            panic!("{:#?}", checked.diagnostics)
        };
        let o = outline(&p);
        let limit = &o.parameters[0];
        assert_eq!(limit.name, "limit");
        assert_eq!(limit.section.as_deref(), Some("4"));
        let values: Vec<(Option<&str>, &str)> = limit
            .values
            .iter()
            .map(|v| (v.from.as_deref(), v.value.as_str()))
            .collect();
        assert_eq!(
            values,
            [
                (Some("2021-01-01"), "500.00 €"),
                (Some("2021-07-01"), "520.00 €")
            ]
        );
        assert_eq!(o.criteria[0].reason, "the income is over the limit");
        assert_eq!(o.criteria[0].condition, "h.income <= limit");
    }
}
