//! `use`: another programme's rulebooks, whose parameters, functions,
//! tables and scales this one may use under an alias, and which it may
//! decide for a part of the case (`ceiling(next_fee.amount: fee).next_fee_due`).
//!
//! Names are typed against the used programme's earliest version in force
//! during this one's period, and every other such version must agree on
//! them (same types, same inputs), because the version in force on the
//! decision date is the one that decides. The used programme's enums and
//! records become this one's types under the alias (`ceiling.Fee`); values
//! cross unchanged, since a variant is its position and a record its
//! fields in order.

use super::expressions::error_expr;
use super::*;
use crate::ir::value::Type;
use crate::syntax::ast::{self, ExprKind as A};
use std::sync::Arc;

/// The checked versions of other programmes a rulebook may `use`.
#[derive(Debug, Default, Clone)]
pub struct Library {
    /// Versions without errors, by programme id.
    pub programmes: HashMap<String, Vec<Arc<Program>>>,
    /// Programmes loaded with a version that has errors.
    pub with_errors: HashSet<String>,
    /// Programmes that use the one being checked, directly or not: using
    /// one of them back would be a circle.
    pub users: HashSet<String>,
}

/// What the checker keeps of one `use`: the programme as the IR holds it,
/// and how its types are numbered among this rulebook's.
pub(super) struct Import {
    pub programme: UsedProgramme,
    enum_map: Vec<u32>,
    record_map: Vec<u32>,
}

impl Import {
    /// The version names are typed against.
    fn reference(&self) -> Option<&Program> {
        self.programme.versions.first().map(|v| v.as_ref())
    }
}

/// A used programme's type among this rulebook's types.
fn map_type(t: &Type, enums: &[u32], records: &[u32]) -> Type {
    match t {
        Type::Enum(e) => enums
            .get(*e as usize)
            .map_or(Type::Error, |&e| Type::Enum(e)),
        Type::Record(r) => records
            .get(*r as usize)
            .map_or(Type::Error, |&r| Type::Record(r)),
        Type::List(t) => Type::List(Box::new(map_type(t, enums, records))),
        Type::Optional(t) => Type::Optional(Box::new(map_type(t, enums, records))),
        other => other.clone(),
    }
}

impl<'a> Checker<'a> {
    /// Finds each used programme in the library and takes in its types;
    /// runs after the header, before this rulebook's own types.
    pub(super) fn declare_uses(&mut self) {
        let own_id = self.file.header.as_ref().map(|h| h.id.name.clone());
        let period = self
            .file
            .header
            .as_ref()
            .and_then(|h| h.in_force.as_ref())
            .map(|f| (f.from, f.to));
        let file = self.file;
        for item in &file.items {
            let ast::ItemKind::Use(u) = &item.kind else {
                continue;
            };
            if let Some(first) = self
                .imports
                .iter()
                .find(|i| i.programme.alias == u.alias.name)
            {
                let first = first.programme.span;
                self.err(
                    Diagnostic::error(
                        Code::DuplicateDefinition,
                        u.alias.span,
                        format!("`{}` names two used programmes", u.alias.name),
                    )
                    .with_related(first, "first used here")
                    .with_help("give one of them another name with `as NAME`"),
                );
                continue;
            }
            // Until it is found usable, its uses are not reported again.
            self.unusable.insert(u.alias.name.clone());
            if own_id.as_deref() == Some(u.id.name.as_str()) {
                self.err(
                    Diagnostic::error(Code::InvalidUse, u.id.span, "a rulebook cannot use its own programme")
                        .with_help("use the definitions directly; a version that builds on an earlier one says `amends VERSION`"),
                );
                continue;
            }
            if self.library.users.contains(&u.id.name) {
                self.err(
                    Diagnostic::error(
                        Code::InvalidUse,
                        u.id.span,
                        format!(
                            "`{}` uses this programme, so this one cannot use it back",
                            u.id.name
                        ),
                    )
                    .with_help("move what both need into a third rulebook that both use"),
                );
                continue;
            }
            let Some(all) = self.library.programmes.get(&u.id.name) else {
                let d = if self.library.with_errors.contains(&u.id.name) {
                    Diagnostic::error(
                        Code::InvalidUse,
                        u.id.span,
                        format!(
                            "`{}` has errors, so this rulebook cannot use it yet",
                            u.id.name
                        ),
                    )
                    .with_help(format!(
                        "run `rulebook check` on the files of `{}` and fix them first",
                        u.id.name
                    ))
                } else {
                    let known: Vec<&str> =
                        self.library.programmes.keys().map(|k| k.as_str()).collect();
                    let d = Diagnostic::error(
                        Code::InvalidUse,
                        u.id.span,
                        format!("no rulebook of programme `{}` is loaded", u.id.name),
                    );
                    match suggest(&u.id.name, known.iter().copied()) {
                        Some(s) => d.did_you_mean(u.id.span, s),
                        None if u.from.is_none() => d.with_help(format!(
                            "say where its files are: `use {} from \"../folder\"`",
                            u.id.name
                        )),
                        None => d.with_help("check the folder after `from` and the programme id in its files' headers"),
                    }
                };
                self.err(d);
                continue;
            };
            let Some((from, to)) = period else {
                continue;
            };
            let mut versions: Vec<Arc<Program>> = all
                .iter()
                .filter(|v| {
                    to.is_none_or(|to| v.in_force_from <= to)
                        && v.in_force_to.is_none_or(|vt| vt >= from)
                })
                .cloned()
                .collect();
            versions.sort_by_key(|v| v.in_force_from);
            if versions.is_empty() {
                let periods: Vec<String> = all
                    .iter()
                    .map(|v| match v.in_force_to {
                        Some(t) => format!("{} to {t}", v.in_force_from),
                        None => format!("from {}", v.in_force_from),
                    })
                    .collect();
                self.err(
                    Diagnostic::error(
                        Code::InvalidUse,
                        u.id.span,
                        format!("no version of `{}` is in force during this version's period", u.id.name),
                    )
                    .with_help(format!("its versions are in force {}; add the version for this period to its folder", periods.join(", "))),
                );
                continue;
            }
            if let Some(day) = first_uncovered(&versions, from, to) {
                self.err(
                    Diagnostic::warning(
                        Code::InvalidUse,
                        u.id.span,
                        format!("no version of `{}` is in force on {day}, so decisions from that day that use it fail", u.id.name),
                    )
                    .with_help(format!("add a version of `{}` in force from {day}, or end this version's period before it", u.id.name)),
                );
            }
            let import = self.take_in_types(u, versions, item);
            self.imports.push(import);
            self.unusable.remove(&u.alias.name);
        }
    }

    /// The used programme's enums and records, named `alias.Name` here.
    fn take_in_types(
        &mut self,
        u: &ast::UseDef,
        versions: Vec<Arc<Program>>,
        item: &ast::Item,
    ) -> Import {
        let mut enum_map = Vec::new();
        let mut record_map = Vec::new();
        if let Some(reference) = versions.first().cloned() {
            for e in &reference.enums {
                let id = self.enums.len() as u32;
                let name = format!("{}.{}", u.alias.name, e.name);
                self.type_names
                    .insert(name.clone(), (Type::Enum(id), u.alias.span));
                self.enums.push(EnumInfo {
                    name,
                    variants: e.variants.clone(),
                    // Filled in once the records are numbered here.
                    data: Vec::new(),
                    doc: e.doc.clone(),
                    span: u.alias.span,
                });
                enum_map.push(id);
            }
            let first_record = self.records.len() as u32;
            record_map = (0..reference.records.len() as u32)
                .map(|k| first_record + k)
                .collect();
            for r in &reference.records {
                let name = format!("{}.{}", u.alias.name, r.name);
                let id = self.records.len() as u32;
                self.type_names
                    .insert(name.clone(), (Type::Record(id), u.alias.span));
                let fields = r
                    .fields
                    .iter()
                    .map(|f| FieldInfo {
                        ty: map_type(&f.ty, &enum_map, &record_map),
                        span: u.alias.span,
                        ..f.clone()
                    })
                    .collect();
                self.records.push(RecordInfo {
                    name,
                    fields,
                    doc: r.doc.clone(),
                    span: u.alias.span,
                });
            }
        }
        // The imported enums' variant data, as records numbered here.
        if let Some(reference) = versions.first() {
            for (e, &local) in reference.enums.iter().zip(&enum_map) {
                let data = e
                    .data
                    .iter()
                    .map(|d| d.and_then(|r| record_map.get(r as usize).copied()))
                    .collect();
                if let Some(info) = self.enums.get_mut(local as usize) {
                    info.data = data;
                }
            }
        }
        Import {
            programme: UsedProgramme {
                id: u.id.name.clone(),
                alias: u.alias.name.clone(),
                versions,
                citation: (&u.citation).into(),
                span: item.span,
            },
            enum_map,
            record_map,
        }
    }

    /// The used programme an alias names, unless a local or global of this
    /// rulebook has the name.
    pub(super) fn import_of(&self, alias: &str) -> Option<u32> {
        if self.locals.iter().any(|l| l.0 == alias) || self.globals.contains_key(alias) {
            return None;
        }
        self.imports
            .iter()
            .position(|i| i.programme.alias == alias)
            .map(|k| k as u32)
    }

    /// Records a use of the alias and gives the used programme's version its
    /// names are typed against.
    fn reference_of(&mut self, k: u32, alias: &ast::Ident) -> Option<Arc<Program>> {
        self.uses
            .push((alias.span, SymKey::Global(alias.name.clone())));
        self.imports
            .get(k as usize)
            .and_then(|i| i.programme.versions.first().cloned())
    }

    fn used_type(&self, k: u32, t: &Type) -> Type {
        match self.imports.get(k as usize) {
            Some(i) => map_type(t, &i.enum_map, &i.record_map),
            None => Type::Error,
        }
    }

    /// The versions after the reference that disagree on something the
    /// reference has: `shape` gives it in a version, `None` when missing.
    fn disagreeing(&self, k: u32, shape: impl Fn(&Program) -> Option<String>) -> Option<String> {
        let import = self.imports.get(k as usize)?;
        let want = shape(import.reference()?);
        import
            .programme
            .versions
            .iter()
            .skip(1)
            .find(|v| shape(v) != want)
            .map(|v| v.version.clone())
    }

    fn versions_disagree(&mut self, k: u32, span: Span, what: &str, version: &str) {
        let (id, first) = self
            .imports
            .get(k as usize)
            .map(|i| {
                (
                    i.programme.id.clone(),
                    i.reference().map(|r| r.version.clone()).unwrap_or_default(),
                )
            })
            .unwrap_or_default();
        self.err(
            Diagnostic::error(
                Code::InvalidUse,
                span,
                format!("versions {first} and {version} of `{id}` differ in {what}, and both are in force during this version's period"),
            )
            .with_help("split this version's period where the used programme changes, so that each version of this rulebook uses one version of it"),
        );
    }

    /// Whether a name is the alias of a `use` that failed, so that what is
    /// written with it is not reported again.
    pub(super) fn is_unusable(&self, alias: &str) -> bool {
        self.unusable.contains(alias)
            && !self.locals.iter().any(|l| l.0 == alias)
            && !self.globals.contains_key(alias)
    }

    /// `alias.name`: a parameter or a definition that reads no inputs.
    pub(super) fn used_value(
        &mut self,
        k: u32,
        alias: &ast::Ident,
        name: &ast::Ident,
        span: Span,
    ) -> Expr {
        let Some(reference) = self.reference_of(k, alias) else {
            return error_expr(span);
        };
        let id = reference.id.clone();
        let is_type = reference.enums.iter().any(|e| e.name == name.name)
            || reference.records.iter().any(|r| r.name == name.name);
        if is_type {
            let example = reference
                .enums
                .iter()
                .find(|e| e.name == name.name)
                .and_then(|e| e.variants.first())
                .map(|v| {
                    format!(
                        "write one of its values, such as `{}.{}.{v}`",
                        alias.name, name.name
                    )
                })
                .unwrap_or_else(|| {
                    format!("use it as a type: `list of {}.{}`", alias.name, name.name)
                });
            self.err(
                Diagnostic::error(
                    Code::TypeMismatch,
                    name.span,
                    format!("`{}.{}` is a type, not a value", alias.name, name.name),
                )
                .with_help(example),
            );
            return error_expr(span);
        }
        let Some(d) = reference
            .def_index(&name.name)
            .and_then(|i| reference.defs.get(i as usize))
        else {
            return self.unknown_used(&reference, alias, name, span);
        };
        let reads = match &d.body {
            DefBody::Rule { base, overrides } => {
                reference.reads_inputs(base)
                    || overrides.iter().any(|o| {
                        reference.reads_inputs(&o.condition) || reference.reads_inputs(&o.value)
                    })
            }
            DefBody::Dated(_) => false,
        };
        if reads {
            let inputs: Vec<String> = reference
                .input_paths()
                .into_iter()
                .map(|p| format!("{}: ...", p.0))
                .collect();
            self.err(
                Diagnostic::error(
                    Code::InvalidUse,
                    name.span,
                    format!("`{}` of `{id}` depends on the case's inputs", name.name),
                )
                .with_help(format!(
                    "decide `{id}` for a part of this case and take `{}` from it: `{}({}).{}`",
                    name.name,
                    alias.name,
                    inputs.join(", "),
                    name.name
                )),
            );
            return error_expr(span);
        }
        self.uses.push((
            name.span,
            SymKey::Used(alias.name.clone(), name.name.clone()),
        ));
        let ty = self.used_type(k, &d.ty);
        let n = name.name.clone();
        if let Some(v) = self.disagreeing(k, |p| {
            p.def_index(&n)
                .and_then(|i| p.defs.get(i as usize))
                .map(|d| p.shape(&d.ty))
        }) {
            self.versions_disagree(k, name.span, &format!("`{}`", name.name), &v);
        }
        Expr {
            kind: ExprKind::Used {
                used: k,
                item: UsedItem::Def(Arc::from(name.name.as_str())),
                args: Vec::new(),
            },
            ty,
            span,
        }
    }

    fn unknown_used(
        &mut self,
        reference: &Program,
        alias: &ast::Ident,
        name: &ast::Ident,
        span: Span,
    ) -> Expr {
        let mut names: Vec<&str> = reference
            .defs
            .iter()
            .map(|d| d.name.as_str())
            .chain(reference.functions.iter().map(|f| f.name.as_str()))
            .chain(reference.tables.iter().map(|t| t.name.as_str()))
            .chain(reference.scales.iter().map(|s| s.name.as_str()))
            .collect();
        names.sort();
        let d = Diagnostic::error(
            Code::UnknownName,
            name.span,
            format!(
                "`{}` (programme `{}`) has no `{}`",
                alias.name, reference.id, name.name
            ),
        )
        .with_label("unknown name");
        let d = match suggest(&name.name, names.iter().copied()) {
            Some(s) => d.did_you_mean(name.span, s),
            None => d.with_help(format!("it defines {}", names.join(", "))),
        };
        self.err(d);
        error_expr(span)
    }

    /// `alias.f(args)`: a function, table or scale of a used programme.
    pub(super) fn used_call(
        &mut self,
        alias: &ast::Ident,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Expr {
        if self.is_unusable(&alias.name) {
            return error_expr(span);
        }
        let Some(k) = self.import_of(&alias.name) else {
            if self.globals.contains_key(&alias.name)
                || self.locals.iter().any(|l| l.0 == alias.name)
            {
                self.err(
                    Diagnostic::error(Code::WrongArguments, span, format!("`{}` is a value; it has no functions", alias.name))
                        .with_help("call a function by its name alone, or `ALIAS.function(...)` for one of a programme named by `use`"),
                );
                return error_expr(span);
            }
            return self.unknown_name(&alias.name, alias.span);
        };
        let Some(reference) = self.reference_of(k, alias) else {
            return error_expr(span);
        };
        let n = name.name.as_str();
        // What is called: its kind, parameters, result and the bodies that
        // must not read inputs.
        let (item, params, ret, reads) =
            if let Some(f) = reference.functions.iter().find(|f| f.name == n) {
                let reads = reference.reads_inputs(&f.body)
                    || f.overrides.iter().any(|o| {
                        reference.reads_inputs(&o.condition) || reference.reads_inputs(&o.value)
                    });
                (
                    UsedItem::Function(Arc::from(n)),
                    f.params
                        .iter()
                        .map(|p| (p.0.clone(), p.1.clone()))
                        .collect::<Vec<_>>(),
                    f.ret.clone(),
                    reads,
                )
            } else if let Some(t) = reference.tables.iter().find(|t| t.name == n) {
                let reads = t.rows.iter().any(|r| reference.reads_inputs(&r.result));
                (
                    UsedItem::Table(Arc::from(n)),
                    t.params
                        .iter()
                        .map(|p| (p.0.clone(), p.1.clone()))
                        .collect(),
                    t.ret.clone(),
                    reads,
                )
            } else if let Some(s) = reference.scales.iter().find(|s| s.name == n) {
                (
                    UsedItem::Scale(Arc::from(n)),
                    vec![s.param.clone()],
                    s.ret.clone(),
                    false,
                )
            } else {
                if reference.def_index(n).is_some() {
                    self.err(
                        Diagnostic::error(
                            Code::WrongArguments,
                            span,
                            format!("`{}.{n}` is a value, not a function", alias.name),
                        )
                        .with_help(format!("remove the parentheses: `{}.{n}`", alias.name)),
                    );
                    return error_expr(span);
                }
                return self.unknown_used(&reference, alias, name, span);
            };
        if reads {
            self.err(
                Diagnostic::error(
                    Code::InvalidUse,
                    name.span,
                    format!("`{n}` of `{}` reads that rulebook's inputs, which a call does not give", reference.id),
                )
                .with_help("decide the rulebook for a part of this case instead: `ALIAS(input.path: value, ...).output`"),
            );
            return error_expr(span);
        }
        self.uses.push((
            name.span,
            SymKey::Used(alias.name.clone(), name.name.clone()),
        ));
        if args.len() != params.len() {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    span,
                    format!(
                        "`{}.{n}` takes {} argument{}, but {} {} given",
                        alias.name,
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        args.len(),
                        if args.len() == 1 { "is" } else { "are" }
                    ),
                )
                .with_help(format!(
                    "give one argument for each of its inputs, in order: {}",
                    params
                        .iter()
                        .map(|p| p.0.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            return error_expr(span);
        }
        let mut out = Vec::new();
        for (a, (pname, pty)) in args.iter().zip(&params) {
            let want = self.used_type(k, pty);
            let x = self.expr_expecting(a, &want);
            if !x.ty.fits(&want) {
                self.mismatch(a.span, &want, &x.ty, &format!("`{pname}`"));
            }
            out.push(x);
        }
        let signature = |p: &Program| -> Option<String> {
            let (params, ret): (Vec<&Type>, &Type) =
                if let Some(f) = p.functions.iter().find(|f| f.name == n) {
                    (f.params.iter().map(|x| &x.1).collect(), &f.ret)
                } else if let Some(t) = p.tables.iter().find(|t| t.name == n) {
                    (t.params.iter().map(|x| &x.1).collect(), &t.ret)
                } else {
                    let s = p.scales.iter().find(|s| s.name == n)?;
                    (vec![&s.param.1], &s.ret)
                };
            Some(format!(
                "({}) -> {}",
                params
                    .iter()
                    .map(|t| p.shape(t))
                    .collect::<Vec<_>>()
                    .join(", "),
                p.shape(ret)
            ))
        };
        if let Some(v) = self.disagreeing(k, signature) {
            self.versions_disagree(k, name.span, &format!("`{n}`"), &v);
        }
        Expr {
            kind: ExprKind::Used {
                used: k,
                item,
                args: out,
            },
            ty: self.used_type(k, &ret),
            span,
        }
    }

    /// `alias(path: value, ...).result`: a used programme decided for a part
    /// of this case; `result` is one of its outputs or `eligible`.
    pub(super) fn decide(
        &mut self,
        alias: &ast::Ident,
        args: &[(ast::Ident, ast::Expr)],
        result: Option<&ast::Ident>,
        span: Span,
    ) -> Expr {
        if self.is_unusable(&alias.name) {
            return error_expr(span);
        }
        let Some(k) = self.import_of(&alias.name) else {
            if self.globals.contains_key(&alias.name)
                || self.locals.iter().any(|l| l.0 == alias.name)
            {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        span,
                        format!(
                            "`{}` is not a used programme; named arguments decide one",
                            alias.name
                        ),
                    )
                    .with_help("give a function its arguments without names, in order"),
                );
                return error_expr(span);
            }
            return self.unknown_name(&alias.name, alias.span);
        };
        let Some(reference) = self.reference_of(k, alias) else {
            return error_expr(span);
        };
        let id = reference.id.clone();
        let Some(result) = result else {
            let outputs: Vec<String> = reference
                .outputs
                .iter()
                .filter_map(|&o| {
                    reference
                        .defs
                        .get(o as usize)
                        .map(|d| format!("`.{}`", d.name))
                })
                .collect();
            self.err(
                Diagnostic::error(
                    Code::TypeMismatch,
                    span,
                    format!("a decision of `{id}` is not a value by itself"),
                )
                .with_help(format!(
                    "take one result of it: `.eligible` or one of its outputs {}",
                    outputs.join(", ")
                )),
            );
            return error_expr(span);
        };
        let paths = reference.input_paths();
        let mut given: Vec<(Arc<str>, Expr)> = Vec::new();
        for (path, value) in args {
            if given.iter().any(|(p, _)| **p == *path.name) {
                self.err(
                    Diagnostic::error(
                        Code::WrongArguments,
                        path.span,
                        format!("`{}` is given twice", path.name),
                    )
                    .with_help("give each input once"),
                );
                continue;
            }
            let Some((_, ty, _)) = paths.iter().find(|p| p.0 == path.name) else {
                let names: Vec<&str> = paths.iter().map(|p| p.0.as_str()).collect();
                let d = Diagnostic::error(
                    Code::UnknownField,
                    path.span,
                    format!("`{id}` has no input `{}`", path.name),
                )
                .with_label("unknown input");
                let d = match suggest(&path.name, names.iter().copied()) {
                    Some(s) => d.did_you_mean(path.span, s),
                    None => d.with_help(format!("its inputs are {}", names.join(", "))),
                };
                self.err(d);
                continue;
            };
            let want = self.used_type(k, ty);
            let x = self.expr_expecting(value, &want);
            if !x.ty.fits(&want) {
                self.mismatch(value.span, &want, &x.ty, &format!("`{}`", path.name));
            }
            given.push((Arc::from(path.name.as_str()), x));
        }
        let missing: Vec<&str> = paths
            .iter()
            .filter(|p| {
                !matches!(p.1, Type::Optional(_)) && !given.iter().any(|(g, _)| **g == *p.0)
            })
            .map(|p| p.0.as_str())
            .collect();
        if !missing.is_empty() {
            self.err(
                Diagnostic::error(
                    Code::WrongArguments,
                    span,
                    format!(
                        "`{id}` needs {} to decide",
                        missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_help(format!(
                    "add {}",
                    missing
                        .iter()
                        .map(|m| format!("`{m}: ...`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        let inputs_shape = |p: &Program| -> Option<String> {
            let mut v: Vec<String> = p
                .input_paths()
                .iter()
                .map(|(n, t, _)| format!("{n}: {}", p.shape(t)))
                .collect();
            v.sort();
            Some(v.join("; "))
        };
        if let Some(v) = self.disagreeing(k, inputs_shape) {
            self.versions_disagree(k, alias.span, "their inputs", &v);
        }
        let (ty, name) = if result.name == "eligible" {
            (Type::Bool, None)
        } else {
            let Some(d) = reference
                .output_index(&result.name)
                .and_then(|o| reference.defs.get(o as usize))
            else {
                let outputs: Vec<&str> = reference
                    .outputs
                    .iter()
                    .filter_map(|&o| reference.defs.get(o as usize).map(|d| d.name.as_str()))
                    .chain(["eligible"])
                    .collect();
                let d = Diagnostic::error(
                    Code::UnknownField,
                    result.span,
                    format!("`{id}` has no output `{}`", result.name),
                )
                .with_label("unknown output");
                let d = match suggest(&result.name, outputs.iter().copied()) {
                    Some(s) => d.did_you_mean(result.span, s),
                    None => d.with_help(format!("its results are {}", outputs.join(", "))),
                };
                self.err(d);
                return error_expr(span);
            };
            let r = result.name.clone();
            if let Some(v) = self.disagreeing(k, |p| {
                p.output_index(&r)
                    .and_then(|o| p.defs.get(o as usize))
                    .map(|d| p.shape(&d.ty))
            }) {
                self.versions_disagree(k, result.span, &format!("`{}`", result.name), &v);
            }
            self.uses.push((
                result.span,
                SymKey::Used(alias.name.clone(), result.name.clone()),
            ));
            (
                self.used_type(k, &d.ty),
                Some(Arc::from(result.name.as_str())),
            )
        };
        let (paths, args): (Vec<Arc<str>>, Vec<Expr>) = given.into_iter().unzip();
        Expr {
            kind: ExprKind::Used {
                used: k,
                item: UsedItem::Decide {
                    paths,
                    result: name,
                },
                args,
            },
            ty,
            span,
        }
    }

    /// `alias.Type.Variant`, when `alias.Type` is an enum taken in from a
    /// used programme.
    pub(super) fn used_variant(&mut self, base: &ast::Expr, field: &ast::Ident) -> Option<Expr> {
        let A::Field(alias, type_name) = &base.kind else {
            return None;
        };
        let A::Name(alias) = &alias.kind else {
            return None;
        };
        self.import_of(alias)?;
        let qualified = format!("{alias}.{}", type_name.name);
        match self.type_names.get(&qualified).cloned() {
            Some((Type::Enum(eid), _)) => {
                self.uses.push((base.span, SymKey::Type(qualified)));
                Some(self.variant_of(eid, field))
            }
            _ => None,
        }
    }
}

/// The first day of `from..=to` (or from `from` on) on which none of the
/// versions is in force.
fn first_uncovered(
    versions: &[Arc<Program>],
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let mut day = from;
    loop {
        if to.is_some_and(|t| day > t) {
            return None;
        }
        let Some(covering) = versions
            .iter()
            .find(|v| v.in_force_from <= day && v.in_force_to.is_none_or(|t| day <= t))
        else {
            return Some(day);
        };
        match covering.in_force_to {
            None => return None,
            Some(t) => day = t.succ_opt()?,
        }
    }
}
