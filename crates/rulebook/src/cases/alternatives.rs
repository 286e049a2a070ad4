//! One case against several alternatives (each provider's price, each
//! municipality): the case with a few inputs set otherwise, by path, so
//! that a customer can see what they would pay at each provider in one call.

use serde_json::Value as J;

/// The case document with each `(path, value)` set: `service.hourly_price`
/// sets that field of the `service` input. A path whose first part is not
/// in the case, or that runs through something that is not a record, is
/// an error naming it.
pub fn with_changes(doc: &J, changes: &[(String, J)]) -> Result<J, String> {
    let mut out = doc.clone();
    for (path, value) in changes {
        let mut parts = path.split('.').peekable();
        let mut at = &mut out;
        let mut walked = Vec::new();
        while let Some(part) = parts.next() {
            walked.push(part);
            let Some(map) = at.as_object_mut() else {
                return Err(format!(
                    "`{}` is not a record, so `{path}` cannot be set",
                    walked[..walked.len() - 1].join(".")
                ));
            };
            if parts.peek().is_none() {
                map.insert(part.to_string(), value.clone());
                break;
            }
            at = match map.get_mut(part) {
                Some(next) => next,
                None => {
                    return Err(format!(
                        "the case has no `{}` to set `{path}` in",
                        walked.join(".")
                    ))
                }
            };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_sets_a_field_and_a_wrong_path_is_named() {
        let case = json!({ "service": { "hourly_price": "40.00", "hours_per_month": 10 } });
        let changed = with_changes(&case, &[("service.hourly_price".into(), json!("35.50"))]);
        assert_eq!(
            changed,
            Ok(json!({ "service": { "hourly_price": "35.50", "hours_per_month": 10 } }))
        );
        assert_eq!(
            with_changes(&case, &[("servce.hourly_price".into(), json!("1"))]),
            Err("the case has no `servce` to set `servce.hourly_price` in".into())
        );
        assert_eq!(
            with_changes(&case, &[("service.hours_per_month.x".into(), json!("1"))]),
            Err("`service.hours_per_month` is not a record, so `service.hours_per_month.x` cannot be set".into())
        );
    }
}
