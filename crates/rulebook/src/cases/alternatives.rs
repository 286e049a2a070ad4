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
        let parts: Vec<&str> = path.split('.').collect();
        let mut at = &mut out;
        for (k, part) in parts.iter().enumerate() {
            let walked = parts[..k].join(".");
            let last = k + 1 == parts.len();
            let next = match at {
                // A list's member is named by its position from 0:
                // `treatment.procedures.0.price`.
                J::Array(list) => {
                    let len = list.len();
                    let Some(member) = part.parse::<usize>().ok().and_then(|i| list.get_mut(i))
                    else {
                        return Err(format!(
                            "`{walked}` is a list of {len}; name a member by its position from 0, such as `{walked}.0`, to set `{path}`"
                        ));
                    };
                    member
                }
                J::Object(map) => {
                    if last {
                        map.insert(part.to_string(), value.clone());
                        break;
                    }
                    match map.get_mut(*part) {
                        Some(next) => next,
                        None => {
                            return Err(format!(
                                "the case has no `{}` to set `{path}` in",
                                parts[..=k].join(".")
                            ))
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "`{walked}` is not a record, so `{path}` cannot be set"
                    ))
                }
            };
            if last {
                *next = value.clone();
                break;
            }
            at = next;
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

    #[test]
    fn a_list_member_is_named_by_its_position() {
        let case =
            json!({ "treatment": { "procedures": [ { "price": "40" }, { "price": "50" } ] } });
        assert_eq!(
            with_changes(
                &case,
                &[("treatment.procedures.1.price".into(), json!("45"))]
            ),
            Ok(json!({ "treatment": { "procedures": [ { "price": "40" }, { "price": "45" } ] } }))
        );
        assert_eq!(
            with_changes(&case, &[("treatment.procedures.2.price".into(), json!("45"))]),
            Err("`treatment.procedures` is a list of 2; name a member by its position from 0, such as `treatment.procedures.0`, to set `treatment.procedures.2.price`".into())
        );
    }
}
