//! Diagnostics as people read them, rendered by miette. Pure: text in, text out.

use crate::diagnostic::{Diagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;

struct Report<'a> {
    d: &'a Diagnostic,
    src: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

fn span(s: crate::diagnostic::Span) -> SourceSpan {
    SourceSpan::new(s.start.into(), s.len())
}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(self.d.label.clone(), span(self.d.span));
        let related = self
            .d
            .related
            .iter()
            .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), span(l.span)));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Renders diagnostics of one file. `color` adds terminal colours.
pub fn render_diagnostics(path: &str, text: &str, diags: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for d in diags {
        let report = Report {
            d,
            src: NamedSource::new(path, text.to_string()),
        };
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{path}: {}: {}\n", d.code, d.message));
        }
        out.push('\n');
    }
    out
}

/// One line per diagnostic: `path:line:column: severity[code]: message`.
pub fn short_diagnostics(path: &str, text: &str, diags: &[Diagnostic]) -> String {
    let index = crate::diagnostic::LineIndex::new(text);
    let mut out = String::new();
    for d in diags {
        let (line, col) = index.position(text, d.span.start);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "{path}:{}:{}: {sev}[{}]: {}\n",
            line + 1,
            col + 1,
            d.code,
            d.message
        ));
    }
    out
}
