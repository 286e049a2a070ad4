//! Texts in several languages: the `languages` a rulebook declares, and
//! for each text people read (the title, criteria reasons, output labels,
//! input descriptions) its translations. A declared language without a text
//! is a warning, as is a text in a language that is not declared.

use super::Checker;
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::ir::{TextEntry, Texts};
use crate::syntax::ast::{self, InputShape, ItemKind, Translation};

impl Checker<'_> {
    pub(super) fn collect_texts(&mut self) -> (Vec<String>, Texts) {
        let file = self.file;
        let languages: Vec<String> = file
            .header
            .as_ref()
            .map(|h| h.languages.iter().map(|l| l.name.clone()).collect())
            .unwrap_or_default();
        if let Some(h) = &file.header {
            let mut seen: Vec<&str> = Vec::new();
            for l in &h.languages {
                if seen.contains(&l.name.as_str()) {
                    self.diags.push(
                        Diagnostic::warning(
                            Code::UnknownLanguage,
                            l.span,
                            format!("`{}` is declared twice", l.name),
                        )
                        .with_help("list each language once, the first being the language of the plain texts"),
                    );
                }
                seen.push(&l.name);
            }
        }
        let mut texts = Texts::new();
        let mut add = |key: String, first: &str, tr: &[Translation], span: Span, what: String| {
            texts.insert(
                key,
                TextEntry {
                    first: first.to_string(),
                    translations: tr
                        .iter()
                        .map(|t| (t.lang.name.clone(), t.text.clone()))
                        .collect(),
                    span,
                    what,
                },
            );
        };
        if let Some(h) = &file.header {
            if let Some(t) = &h.title {
                add(
                    "title".into(),
                    t,
                    &h.title_in,
                    h.id.span,
                    "the title".into(),
                );
            }
        }
        for item in &file.items {
            match &item.kind {
                ItemKind::Eligibility(e) => {
                    for c in &e.criteria {
                        add(
                            format!("criterion:{}", c.name.name),
                            &c.reason,
                            &c.reason_in,
                            c.name.span,
                            format!("the reason of criterion `{}`", c.name.name),
                        );
                    }
                }
                ItemKind::Definition(d) if d.is_output => {
                    if let Some(l) = &d.label {
                        add(
                            format!("output:{}", d.name.name),
                            l,
                            &d.label_in,
                            d.name.span,
                            format!("the label of output `{}`", d.name.name),
                        );
                    }
                }
                ItemKind::Input(i) => match &i.shape {
                    InputShape::Value(_) => {
                        if let Some(t) = &i.description {
                            add(
                                format!("input:{}", i.name.name),
                                t,
                                &i.description_in,
                                i.name.span,
                                format!("the description of input `{}`", i.name.name),
                            );
                        }
                    }
                    InputShape::Record(fields) => {
                        for f in fields {
                            add_field(&mut add, &i.name.name, f);
                        }
                    }
                },
                _ => {}
            }
        }
        // Doc comments are written for maintainers; their translations are
        // optional, but once one is given the declared languages are
        // checked as for any text.
        let mut docs: Vec<TextEntry> = Vec::new();
        for item in &file.items {
            if let (Some(doc), Some(name)) = (&item.doc, item.kind.name()) {
                let entry = TextEntry {
                    first: doc.clone(),
                    translations: item.doc_in.clone(),
                    span: name.span,
                    what: format!("the doc comment of `{}`", name.name),
                };
                if !item.doc_in.is_empty() {
                    docs.push(entry.clone());
                }
                texts.insert(format!("doc:{}", name.name), entry);
            }
        }
        for entry in texts
            .iter()
            .filter(|(k, _)| !k.starts_with("doc:"))
            .map(|(_, e)| e)
            .chain(&docs)
        {
            self.check_text(&languages, entry);
        }
        (languages, texts)
    }

    fn check_text(&mut self, languages: &[String], entry: &TextEntry) {
        for (lang, _) in &entry.translations {
            if !languages.iter().skip(1).any(|l| l == lang) {
                let help = if languages.is_empty() {
                    format!("declare the rulebook's languages in its header, the language of the plain texts first: `languages fi, {lang}`")
                } else {
                    format!(
                        "add `{lang}` to the header's `languages {}`, or remove this text",
                        languages.join(", ")
                    )
                };
                self.diags.push(
                    Diagnostic::warning(
                        Code::UnknownLanguage,
                        entry.span,
                        format!(
                            "{} has a text in `{lang}`, which the rulebook does not declare",
                            entry.what
                        ),
                    )
                    .with_help(help),
                );
            }
        }
        for lang in languages.iter().skip(1) {
            if !entry.translations.iter().any(|(l, _)| l == lang) {
                self.diags.push(
                    Diagnostic::warning(
                        Code::MissingTranslation,
                        entry.span,
                        format!("{} has no text in `{lang}`", entry.what),
                    )
                    .with_help(format!("write it after the text: \"...\" {lang} \"...\"")),
                );
            }
        }
    }
}

fn add_field(
    add: &mut impl FnMut(String, &str, &[Translation], Span, String),
    input: &str,
    f: &ast::Field,
) {
    if let Some(t) = &f.description {
        add(
            format!("input:{input}.{}", f.name.name),
            t,
            &f.description_in,
            f.name.span,
            format!("the description of `{input}.{}`", f.name.name),
        );
    }
}
