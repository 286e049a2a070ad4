//! Diagnostics as people read them, rendered by miette. Pure: text in, text out.

use crate::diagnostic::LineIndex;
use crate::diagnostic::{Diagnostic, Severity};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::fmt;

struct Report<'a> {
    d: &'a Diagnostic,
    src: &'a Indexed<'a>,
}

/// A file's text with its line starts, so that showing a finding reads
/// only the lines around it. (miette's own source scans from the start of
/// the text for every finding, which made many findings in a long file
/// quadratic.)
struct Indexed<'a> {
    name: &'a str,
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Indexed<'a> {
    fn new(name: &'a str, text: &'a str) -> Indexed<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Indexed { name, text, starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l.saturating_sub(1),
        }
    }
}

impl SourceCode for Indexed<'_> {
    /// miette's own reading, over a window of lines around the span that
    /// is large enough for the context asked for, shifted back into the
    /// whole text: the same contents, without scanning from the start.
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let start = span.offset().min(self.text.len());
        let end = (start + span.len()).min(self.text.len());
        let first = self.line_of(start).saturating_sub(before + 1);
        let last = self.line_of(end) + after + 2;
        let from = self.starts.get(first).copied().unwrap_or(0);
        let to = self
            .starts
            .get(last + 1)
            .copied()
            .unwrap_or(self.text.len())
            .max(end);
        let window: &'b str = self.text.get(from..to).ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((start - from).into(), end - start);
        let c = window.read_span(&local, before, after)?;
        let data: &'b [u8] = c.data();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            data,
            SourceSpan::new((c.span().offset() + from).into(), c.span().len()),
            c.line() + first,
            c.column(),
            c.line_count() + first,
        )))
    }
}

/// Beyond this column a finding is shown without its source line: the
/// drawing of a line that long helps no one (and miette's cannot).
const MAX_DRAWN_COLUMN: usize = 1_000;

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
        Some(self.src)
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

/// The text with each character that reorders its display (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C) replaced by a visible one of the
/// same length in bytes, so that the quoted source cannot be shown in
/// another order than it is read, and the spans still fit.
fn without_direction_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            // The one of two bytes gets a visible mark of two bytes.
            '\u{061C}' => '\u{00A4}',
            c if is_direction_control(c) => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Characters that reorder how text is displayed: with them, what an editor
/// or a review shows can differ from what is checked and evaluated (a rule
/// can look commented out while it applies).
pub fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Renders diagnostics of one file. `color` adds terminal colours.
pub fn render_diagnostics(path: &str, text: &str, diags: &[Diagnostic], color: bool) -> String {
    let shown = without_direction_controls(text);
    let text = shown.as_str();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let src = Indexed::new(path, text);
    let index = LineIndex::new(text);
    let mut out = String::new();
    for d in diags {
        let too_wide = std::iter::once(d.span)
            .chain(d.related.iter().map(|l| l.span))
            .any(|s| index.position(text, s.end).1 > MAX_DRAWN_COLUMN);
        let report = Report { d, src: &src };
        if too_wide || handler.render_report(&mut out, &report).is_err() {
            let (line, col) = index.position(text, d.span.start);
            out.push_str(&format!(
                "{path}:{}:{}: {}: {}\n",
                line + 1,
                col + 1,
                d.code,
                d.message
            ));
            if let Some(h) = &d.help {
                out.push_str(&format!("  help: {h}\n"));
            }
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
