//! Numbers as written in rulebooks and cases.

use rust_decimal::Decimal;

/// Reads a number written in decimal (`1250.50`, `-3`) or scientific
/// (`1.5e3`) notation, only if it is held exactly: `Decimal` rounds digits
/// past its 28 significant ones and turns `1e-400` into nothing, and a
/// decision must never rest on a figure other than the one written.
pub fn parse_exact(text: &str) -> Option<Decimal> {
    let d = Decimal::from_str_exact(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())?;
    let unsigned = text.trim_start_matches(['-', '+']);
    let mantissa = unsigned.split(['e', 'E']).next().unwrap_or(unsigned);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.is_empty() {
        return d.is_zero().then_some(d);
    }
    let held = d.mantissa().unsigned_abs().to_string();
    (held.trim_end_matches('0') == significant).then_some(d)
}

#[cfg(test)]
mod exact_tests {
    use super::parse_exact;

    #[test]
    fn numbers_held_exactly_are_read() {
        for (text, want) in [
            ("1250.50", "1250.50"),
            ("-3", "-3"),
            ("0.000", "0.000"),
            ("1.5e3", "1500"),
            ("2E-2", "0.02"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "0.0000000000000000000000000001",
                "0.0000000000000000000000000001",
            ),
        ] {
            assert_eq!(
                parse_exact(text).map(|d| d.to_string()).as_deref(),
                Some(want),
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_that_would_be_rounded_or_lost_are_refused() {
        for text in [
            "1.00000000000000000000000000001",
            "0.00000000000000000000000000001",
            "1e-400",
            "1e400",
            "79228162514264337593543950336",
            "12.5.3",
            "",
            "abc",
        ] {
            assert_eq!(parse_exact(text), None, "{text}");
        }
    }
}
