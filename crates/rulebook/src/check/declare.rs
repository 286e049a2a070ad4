//! The declaration pass: the header, types, inputs and scales, and the global names every later pass resolves against.

use super::*;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::value::{Type, Value, BUILTIN_TYPES};
use crate::ir::*;
use crate::syntax::ast::{self};

impl<'a> Checker<'a> {
    pub(super) fn declare_global(&mut self, name: &ast::Ident, g: Global) {
        if let Some((_, first)) = self.globals.get(&name.name) {
            let first = *first;
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is defined twice", name.name),
                )
                .with_label("defined again here")
                .with_related(first, "first defined here")
                .with_help("rename one of them, or remove the one that is not meant"),
            );
            return;
        }
        if self.type_names.contains_key(&name.name) {
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is already the name of a type", name.name),
                )
                .with_help("give the value a name that differs from every enum and record"),
            );
            return;
        }
        self.globals.insert(name.name.clone(), (g, name.span));
    }

    pub(super) fn check_header(&mut self) {
        let Some(h) = &self.file.header else {
            // A header that is there but does not parse has its syntax
            // error already.
            let header_written = self
                .text
                .lines()
                .any(|l| l.split_whitespace().next() == Some("rulebook"));
            if header_written && !self.parse_errors.is_empty() {
                return;
            }
            let span = self
                .file
                .items
                .first()
                .map(|i| Span::new(i.span.start, i.span.start))
                .unwrap_or_default();
            self.err(
                Diagnostic::error(Code::MissingHeader, span, "this file has no `rulebook` header")
                    .with_help("start the file with a header such as:\nrulebook helsinki.home_care \"Title\"\n  version 2021\n  in force 2021-01-01 to 2021-12-31\n  source \"...\""),
            );
            return;
        };
        if h.version.is_none() {
            self.err(
                Diagnostic::error(
                    Code::InvalidHeader,
                    h.id.span,
                    "the header does not say which version this is",
                )
                .with_help("add a line such as `version 2021` under the header"),
            );
        }
        match &h.in_force {
            None => self.err(
                Diagnostic::error(Code::InvalidHeader, h.id.span, "the header does not say when this version is in force")
                    .with_help("add a line such as `in force 2021-01-01 to 2021-12-31`, or `in force from 2021-01-01` when it has no end"),
            ),
            Some(f) => {
                // A date that does not exist is reported where it is
                // written; comparing its placeholder would add a false
                // finding.
                let dates_exist = !self
                    .parse_errors
                    .iter()
                    .any(|e| e.start >= f.span.start && e.end <= f.span.end);
                if let (Some(to), true) = (f.to, dates_exist) {
                    if to < f.from {
                        self.err(
                            Diagnostic::error(
                                Code::InvalidHeader,
                                f.span,
                                format!("the validity period ends ({to}) before it starts ({})", f.from),
                            )
                            .with_label("ends before it starts")
                            .with_help("swap the dates, or correct the year"),
                        );
                    }
                }
            }
        }
    }

    pub(super) fn declare_type(&mut self, name: &ast::Ident, ty: Type) -> bool {
        if Type::builtin(&name.name).is_some() {
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is a built-in type", name.name),
                )
                .with_help("choose another name"),
            );
            return false;
        }
        if let Some((_, first)) = self.type_names.get(&name.name) {
            let first = *first;
            self.err(
                Diagnostic::error(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("the type `{}` is defined twice", name.name),
                )
                .with_related(first, "first defined here")
                .with_help("rename or remove one of them"),
            );
            return false;
        }
        self.type_names.insert(name.name.clone(), (ty, name.span));
        true
    }

    pub(super) fn declare_enum(&mut self, e: &ast::EnumDef, item: &ast::Item) {
        let id = self.enums.len() as u32;
        if !self.declare_type(&e.name, Type::Enum(id)) {
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for v in &e.variants {
            if names.contains(&v.name) {
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        v.span,
                        format!("`{}` appears twice in enum `{}`", v.name, e.name.name),
                    )
                    .with_help("remove the second one"),
                );
                continue;
            }
            self.variants
                .entry(v.name.clone())
                .or_default()
                .push((id, names.len() as u32));
            names.push(v.name.clone());
        }
        self.enums.push(EnumInfo {
            name: e.name.name.clone(),
            variants: names,
            // The records of the variants' data are made once every type
            // is declared (`declare_variant_data`).
            data: Vec::new(),
            doc: item.doc.clone(),
            span: e.name.span,
        });
    }

    /// The records of an enum's variants that carry data, named
    /// `Enum.Variant`, once every type is declared (their fields may use any).
    pub(super) fn declare_variant_data(&mut self, e: &ast::EnumDef) {
        if e.data.iter().all(|d| d.is_empty()) {
            return;
        }
        let Some((Type::Enum(id), span)) = self.type_names.get(&e.name.name).cloned() else {
            return;
        };
        if self
            .enums
            .get(id as usize)
            .is_none_or(|info| info.span != e.name.span || span != e.name.span)
        {
            return;
        }
        let mut data = Vec::with_capacity(e.variants.len());
        for (v, fields) in e.variants.iter().zip(&e.data) {
            if fields.is_empty() {
                data.push(None);
                continue;
            }
            let fields = self.fields(fields);
            let rid = self.records.len() as u32;
            self.records.push(RecordInfo {
                name: format!("{}.{}", e.name.name, v.name),
                fields,
                doc: None,
                span: v.span,
            });
            data.push(Some(rid));
        }
        if let Some(info) = self.enums.get_mut(id as usize) {
            info.data = data;
        }
    }

    pub(super) fn fields(&mut self, fields: &[ast::Field]) -> Vec<FieldInfo> {
        let mut out: Vec<FieldInfo> = Vec::new();
        for f in fields {
            if let Some(first) = out.iter().find(|o| o.name == f.name.name) {
                let first = first.span;
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        f.name.span,
                        format!("the field `{}` appears twice", f.name.name),
                    )
                    .with_related(first, "first here")
                    .with_help("remove or rename one of them"),
                );
                continue;
            }
            let (ty, bounds) = self.resolve_type(&f.ty);
            out.push(FieldInfo {
                name: f.name.name.clone(),
                ty,
                bounds,
                description: f.description.clone(),
                span: f.name.span,
            });
        }
        out
    }

    pub(super) fn declare_input(&mut self, i: &ast::InputDef, item: &ast::Item) {
        let (ty, bounds) = match &i.shape {
            ast::InputShape::Value(t) => self.resolve_type(t),
            ast::InputShape::Record(fields) => {
                let fields = self.fields(fields);
                let id = self.records.len() as u32;
                self.records.push(RecordInfo {
                    name: i.name.name.clone(),
                    fields,
                    doc: item.doc.clone(),
                    span: i.name.span,
                });
                (Type::Record(id), None)
            }
        };
        let id = self.inputs.len() as u32;
        self.inputs.push(InputInfo {
            name: i.name.name.clone(),
            ty,
            bounds,
            description: i.description.clone(),
            doc: item.doc.clone(),
            span: i.name.span,
        });
        self.declare_global(&i.name, Global::Input(id));
    }

    pub(super) fn resolve_type(&mut self, t: &ast::TypeExpr) -> (Type, Option<Bounds>) {
        match t {
            ast::TypeExpr::List(inner, _) => {
                (Type::List(Box::new(self.resolve_type(inner).0)), None)
            }
            // An optional value keeps the bounds of what it holds when given.
            ast::TypeExpr::Optional(inner, _) => {
                let (ty, bounds) = self.resolve_type(inner);
                match ty {
                    Type::Optional(_) | Type::Error => (ty, bounds),
                    ty => (Type::Optional(Box::new(ty)), bounds),
                }
            }
            ast::TypeExpr::Named { name, bounds, .. } => {
                let ty = if let Some(b) = Type::builtin(&name.name) {
                    b
                } else if let Some((ty, _)) = self.type_names.get(&name.name) {
                    let ty = ty.clone();
                    self.uses.push((name.span, SymKey::Type(name.name.clone())));
                    ty
                } else if name
                    .name
                    .split_once('.')
                    .is_some_and(|(alias, _)| self.unusable.contains(alias))
                {
                    // Its `use` is reported already.
                    Type::Error
                } else {
                    let candidates: Vec<String> = BUILTIN_TYPES
                        .iter()
                        .map(|s| s.to_string())
                        .chain(self.type_names.keys().cloned())
                        .collect();
                    let mut d = Diagnostic::error(
                        Code::UnknownType,
                        name.span,
                        format!("there is no type `{}`", name.name),
                    )
                    .with_label("unknown type");
                    d = match suggest(&name.name, candidates.iter().map(|s| s.as_str())) {
                        Some(s) => d.did_you_mean(name.span, s),
                        None => d.with_help(format!(
                            "the built-in types are {}; enums and records are declared with `enum` and `record`",
                            BUILTIN_TYPES.join(", ")
                        )),
                    };
                    self.err(d);
                    Type::Error
                };
                let b = bounds.as_ref().and_then(|r| {
                    if !(ty.is_numeric() || ty == Type::Date) {
                        self.err(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                r.span,
                                format!("a {} cannot have a range", self.type_name(&ty)),
                            )
                            .with_help(
                                "ranges such as `1 to 5` are for numbers, amounts and dates",
                            ),
                        );
                        return None;
                    }
                    let (low, high) = self.range_values(r, &ty)?;
                    Some(Bounds {
                        low,
                        high,
                        text: self
                            .text
                            .get(r.span.start..r.span.end)
                            .unwrap_or("")
                            .to_string(),
                    })
                });
                (ty, b)
            }
        }
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn range_values(
        &mut self,
        r: &ast::Range,
        ty: &Type,
    ) -> Option<(Option<(Value, bool)>, Option<(Value, bool)>)> {
        let low = match &r.low {
            Some((v, incl)) => Some((self.const_value(&cell_to_data(v), ty)?, *incl)),
            None => None,
        };
        let high = match &r.high {
            Some((v, incl)) => Some((self.const_value(&cell_to_data(v), ty)?, *incl)),
            None => None,
        };
        if let (Some((l, li)), Some((h, hi))) = (&low, &high) {
            use std::cmp::Ordering::*;
            let empty = match l.compare(h) {
                Some(Greater) => true,
                Some(Equal) => !(*li && *hi),
                _ => false,
            };
            if empty {
                self.err(
                    Diagnostic::error(Code::EmptyRange, r.span, "no value can be in this range")
                        .with_label("empty range")
                        .with_help("write the smaller value first, as in `18 to 24`"),
                );
            }
        }
        Some((low, high))
    }

    pub(super) fn declare_scale(&mut self, s: &'a ast::ScaleDef, item: &ast::Item) {
        let id = self.scales.len() as u32;
        let param = match s.params.as_slice() {
            [p] => {
                let ty = self.resolve_type(&p.ty).0;
                if !(ty.is_numeric() || ty == Type::Error) {
                    self.err(
                        Diagnostic::error(
                            Code::TypeMismatch,
                            p.ty.span(),
                            "a scale's input must be a number or an amount",
                        )
                        .with_help("declare it as `money`, `decimal` or `integer`"),
                    );
                }
                (p.name.name.clone(), ty)
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        s.name.span,
                        format!(
                            "a scale has exactly one input, `{}` has {}",
                            s.name.name,
                            s.params.len()
                        ),
                    )
                    .with_help("write for example `scale tax(income: money) -> money, marginal`"),
                );
                (String::new(), Type::Error)
            }
        };
        let ret = self.resolve_type(&s.ret).0;
        let value_ty = match s.kind {
            ast::ScaleKind::Marginal => Type::Percent,
            ast::ScaleKind::SingleAmount => ret.clone(),
        };
        if s.kind == ast::ScaleKind::Marginal && !ret.fits(&param.1) {
            self.mismatch(s.ret.span(), &param.1, &ret, "a marginal scale's result");
        }
        let mut brackets: Vec<(Value, Value)> = Vec::new();
        let mut last: Option<(Value, Span)> = None;
        for row in &s.brackets {
            let t = self.const_value(&cell_to_data(&row.threshold), &param.1);
            let v = self.const_value(&cell_to_data(&row.value), &value_ty);
            if let (Some(t), Some(v)) = (t, v) {
                if let Some((prev, prev_span)) = &last {
                    if t.compare(prev) != Some(std::cmp::Ordering::Greater) {
                        self.err(
                            Diagnostic::error(Code::ScaleOrder, row.threshold.span(), "scale thresholds must increase from row to row")
                                .with_related(*prev_span, "the previous threshold")
                                .with_help("sort the rows by threshold, smallest first, and remove repeated thresholds"),
                        );
                    }
                }
                last = Some((t.clone(), row.threshold.span()));
                brackets.push((t, v));
            }
        }
        if s.brackets.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::TableShape,
                    s.name.span,
                    format!("the scale `{}` has no rows", s.name.name),
                )
                .with_help("add rows such as `| 0 € | 0 % |` under the header row"),
            );
        }
        // Thresholds are numbers (the scale's input is); rates are
        // percents. Kept as amounts so that evaluation converts nothing.
        let thresholds = brackets
            .iter()
            .filter_map(|(t, _)| t.as_decimal())
            .collect();
        let rates = match s.kind {
            ast::ScaleKind::Marginal => brackets
                .iter()
                .filter_map(|(_, r)| r.as_decimal())
                .collect(),
            ast::ScaleKind::SingleAmount => Vec::new(),
        };
        self.scales.push(ScaleInfo {
            name: s.name.name.clone(),
            param,
            ret,
            kind: s.kind,
            strict: s.strict,
            brackets,
            thresholds,
            rates,
            citation: (&s.citation).into(),
            doc: item.doc.clone(),
            span: s.name.span,
        });
        self.declare_global(&s.name, Global::Scale(id));
    }
}
