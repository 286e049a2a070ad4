//! Decision tables as items: their header and rows are typed, and the row analysis in `tables` reports gaps, overlaps and shadowed rows.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Type, Value};
use crate::ir::*;
use crate::syntax::ast::{self, HitPolicy};

impl<'a> Checker<'a> {
    pub(super) fn check_table(&mut self, i: usize) {
        let errors_before = self.diags.iter().filter(|d| d.is_error()).count();
        let Some(t) = self.table_src.get(i).copied() else {
            return;
        };
        let Some(info) = self.tables.get(i).cloned() else {
            return;
        };
        self.current = Some(Node::Table(i as u32));
        // The header row names the inputs, in order, then the result.
        let mut expected: Vec<&str> = info.params.iter().map(|p| p.0.as_str()).collect();
        let results: Vec<&str> = t.results.iter().map(|r| r.0.name.as_str()).collect();
        if !results.is_empty() {
            expected.extend(results.iter().copied());
        }
        if t.columns.len() != expected.len() + 1 - results.len().min(1)
            || t.columns.iter().zip(&expected).any(|(c, e)| c.name != *e)
        {
            let span = t
                .columns
                .first()
                .map(|c| {
                    c.span
                        .join(t.columns.last().map(|l| l.span).unwrap_or(c.span))
                })
                .unwrap_or(t.name.span);
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    span,
                    format!(
                        "the header row of `{}` should name its inputs, then {}",
                        t.name.name,
                        if results.is_empty() {
                            "the result"
                        } else {
                            "its results"
                        }
                    ),
                )
                .with_help(if results.is_empty() {
                    format!(
                        "write the header as `| {} | {} |`",
                        expected.join(" | "),
                        if t.columns.len() > expected.len() {
                            t.columns
                                .last()
                                .map(|c| c.name.as_str())
                                .unwrap_or("result")
                        } else {
                            "result"
                        }
                    )
                } else {
                    format!(
                        "write the header as `| {} |`: the inputs, then the results",
                        expected.join(" | ")
                    )
                }),
            );
        }
        if t.rows.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    t.name.span,
                    format!("the table `{}` has no rows", t.name.name),
                )
                .with_help("add rows under the header row"),
            );
        }
        match (t.hit, &info.ret) {
            (HitPolicy::Priority | HitPolicy::OutputOrder, r)
                if !matches!(r, Type::Enum(_) | Type::Error)
                    && !matches!(r, Type::List(e) if matches!(**e, Type::Enum(_) | Type::Error)) =>
            {
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        t.ret.span(),
                        format!("`hit {}` ranks results by their enum's order, so the result must be an enum", t.hit.describe()),
                    )
                    .with_help("declare the result as an enum that lists its values from the highest priority down, or use `hit first`"),
                );
            }
            (HitPolicy::CollectSum, r) if !(r.is_numeric() || *r == Type::Error) => {
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        t.ret.span(),
                        "`collect sum` adds numbers or amounts",
                    )
                    .with_help("declare the result as money, decimal, integer or percent"),
                );
            }
            (HitPolicy::CollectMin | HitPolicy::CollectMax, r)
                if !(r.is_ordered() || *r == Type::Error) =>
            {
                self.err(
                    Diagnostic::error(
                        Code::TypeMismatch,
                        t.ret.span(),
                        "`collect min` and `collect max` need values that can be ordered",
                    )
                    .with_help("declare the result as a number, amount, percent or date"),
                );
            }
            _ => {}
        }
        self.locals = info
            .params
            .iter()
            .map(|(n, ty, _)| (n.clone(), ty.clone()))
            .collect();
        let mut rows = Vec::new();
        for row in &t.rows {
            let mut tests = Vec::new();
            let mut ok = true;
            for (cond, (_, ty, _)) in row.conditions.iter().zip(&info.params) {
                match self.cell_test(cond, ty) {
                    Some(test) => tests.push(test),
                    None => ok = false,
                }
            }
            let result = if t.hit == HitPolicy::CollectCount {
                // The result cell only labels the row; the count is what matters.
                Expr {
                    kind: ExprKind::Const(Value::Int(1)),
                    ty: Type::Integer,
                    span: row.result.span,
                }
            } else {
                let r = match (&row.result.kind, &info.ret) {
                    (ast::ExprKind::Record(fields), Type::Record(rid)) => {
                        self.results_row(fields, *rid, row.result.span)
                    }
                    _ => self.expr(&row.result),
                };
                let want = match (&t.hit, &info.ret) {
                    (HitPolicy::CollectList | HitPolicy::OutputOrder, Type::List(e)) => e.as_ref(),
                    (_, ret) => ret,
                };
                if !r.ty.fits(want) {
                    self.mismatch(row.result.span, want, &r.ty, "this result");
                }
                r
            };
            if ok {
                rows.push(TableRowInfo {
                    tests,
                    result,
                    span: row.span,
                });
            }
        }
        self.locals.clear();
        self.current = None;
        if let Some(info) = self.tables.get_mut(i) {
            info.rows = rows;
        }
        let item_span = self.table_spans.get(i).copied().unwrap_or_default();
        let clean = self.diags.iter().filter(|d| d.is_error()).count() == errors_before
            && !self
                .parse_errors
                .iter()
                .any(|s| s.start >= item_span.start && s.start < item_span.end);
        if let Some(info) = self.tables.get(i).cloned() {
            if clean && info.rows.len() == t.rows.len() {
                let sizes: Vec<u32> = self.enums.iter().map(|e| e.variants.len() as u32).collect();
                let findings = crate::check::tables::analyze(&info, &|e| {
                    sizes.get(e as usize).copied().unwrap_or(0)
                });
                for f in findings {
                    let d = self.table_finding(&info, f);
                    self.err(d);
                }
            }
        }
    }

    pub(super) fn table_finding(
        &self,
        t: &TableInfo,
        f: crate::check::tables::Finding,
    ) -> Diagnostic {
        use crate::check::tables::Finding;
        let show = |w: &[Value]| -> String {
            t.params
                .iter()
                .zip(w)
                .map(|((n, ty, _), v)| {
                    format!(
                        "{n} = {}",
                        crate::ir::value::render(v, ty, &NamesView(self))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let row_span = |r: usize| t.rows.get(r).map(|r| r.span).unwrap_or(t.span);
        match f {
            Finding::Gap(w) => Diagnostic::error(
                Code::TableGap,
                t.span,
                format!("no row of `{}` matches {}", t.name, show(&w)),
            )
            .with_label("incomplete table")
            .with_help(if t.hit == crate::syntax::ast::HitPolicy::First {
                format!(
                    "add a row for {}, widen a range, or end the table with a row of `-` cells for everything else",
                    show(&w)
                )
            } else {
                format!(
                    "add a row for {}, widen a range, or use `hit first` with a last row of `-` cells",
                    show(&w)
                )
            })
            .with_fix(
                format!("add a row for {}", show(&w)),
                Span::new(row_span(t.rows.len().saturating_sub(1)).end, row_span(t.rows.len().saturating_sub(1)).end),
                {
                    // The new row's result is left for the author: `TODO`
                    // does not check until it is replaced.
                    let cells: Vec<String> = t
                        .params
                        .iter()
                        .zip(&w)
                        .map(|((_, ty, _), v)| crate::ir::value::render(v, ty, &NamesView(self)))
                        .collect();
                    format!("\n  | {} | TODO |", cells.join(" | "))
                },
            ),
            Finding::Overlap(a, b, w) => Diagnostic::error(
                Code::TableOverlap,
                row_span(b),
                format!("rows {} and {} of `{}` both match {}", a + 1, b + 1, t.name, show(&w)),
            )
            .with_label("overlaps an earlier row")
            .with_related(row_span(a), "this row matches too")
            .with_help("make the ranges exclusive (for example `over 900 € to 1000 €`), or use `hit first` if the first match should win"),
            Finding::Unreachable(r) => Diagnostic::warning(
                Code::UnreachableRow,
                row_span(r),
                format!("row {} of `{}` can never be chosen: earlier rows match everything it matches", r + 1, t.name),
            )
            .with_label("never used")
            .with_help("remove the row, or move it above the rows that shadow it"),
        }
    }

    /// One row's results of a table with several, each typed against its
    /// column's declared type.
    fn results_row(&mut self, fields: &[(ast::Ident, ast::Expr)], rid: u32, span: Span) -> Expr {
        let declared = self
            .records
            .get(rid as usize)
            .map(|r| r.fields.clone())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(fields.len());
        for ((col, e), f) in fields.iter().zip(&declared) {
            let x = self.expr_expecting(e, &f.ty);
            if !x.ty.fits(&f.ty) {
                self.mismatch(e.span, &f.ty, &x.ty, &format!("the result `{}`", col.name));
            }
            out.push(x);
        }
        Expr {
            kind: ExprKind::Record(out),
            ty: Type::Record(rid),
            span,
        }
    }

    pub(super) fn cell_test(&mut self, c: &ast::Condition, ty: &Type) -> Option<CellTest> {
        match c {
            ast::Condition::Any(_) => Some(CellTest::Any),
            ast::Condition::OneOf(values, _) => {
                let mut out = Vec::new();
                for v in values {
                    out.push(self.const_value(&cell_to_data(v), ty)?);
                }
                Some(CellTest::OneOf(out))
            }
            ast::Condition::AnyOf(ranges, _) => {
                let mut out = Vec::with_capacity(ranges.len());
                for r in ranges {
                    out.push(self.cell_test(&ast::Condition::Range(r.clone()), ty)?);
                }
                Some(CellTest::AnyOf(out))
            }
            ast::Condition::Range(r) => {
                if !(ty.is_ordered() || *ty == Type::Error) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            r.span,
                            format!("a {} cannot be compared with a range", self.type_name(ty)),
                        )
                        .with_help("list the values that match, separated by commas"),
                    );
                    return None;
                }
                let (low, high) = self.range_values(r, ty)?;
                Some(CellTest::Range { low, high })
            }
        }
    }
}
