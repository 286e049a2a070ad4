//! Who may do what: API keys with roles, checked on every request except the
//! health probes.
//!
//! A key is 32 random bytes, given to its holder once (`rulebook keys new`)
//! and kept by the service only as its SHA-256, in a keys file of lines
//! `ROLE NAME SHA256-HEX` (`#` starts a comment). A request carries its key
//! as `Authorization: Bearer KEY`. Roles:
//!
//! - `decide`: request decisions and read the programmes (a voucher portal);
//! - `audit`: read logged decisions, which hold personal data (an auditor);
//! - `operate`: read the metrics (an operator).
//!
//! Every read of a logged decision is itself logged with the key's name.

use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Decide,
    Audit,
    Operate,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "decide" => Some(Role::Decide),
            "audit" => Some(Role::Audit),
            "operate" => Some(Role::Operate),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Decide => "decide",
            Role::Audit => "audit",
            Role::Operate => "operate",
        }
    }
}

/// What a request needs, by method and path: `None` for the open probes.
pub fn required(method: &str, path: &str) -> Option<Role> {
    match (method, path) {
        (_, "/v1/health" | "/v1/ready") => None,
        // The Studio's page and its script hold no data; what it shows comes
        // from `/studio/api` and `/v1`, which need a key.
        (_, "/studio" | "/studio/") => None,
        (_, p) if p.starts_with("/studio/assets/") => None,
        (_, "/metrics") => Some(Role::Operate),
        (_, p) if p.starts_with("/v1/decisions/") => Some(Role::Audit),
        // Decisions, programmes, the API's description and unknown paths.
        _ => Some(Role::Decide),
    }
}

#[derive(Debug, Clone)]
struct Key {
    role: Role,
    name: String,
    hash: [u8; 32],
}

/// The keys the service accepts, by hash.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    keys: Vec<Key>,
}

/// A request's key was accepted: whose it is.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Keys {
    /// Reads a keys file; an error names the line and what is wrong.
    pub fn load(path: &Path) -> Result<Keys, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the keys file: {e}", path.display()))?;
        Keys::parse(&text).map_err(|e| format!("{}:{e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Keys, String> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [role, name, hash] = fields.as_slice() else {
                return Err(format!(
                    "{}: expected `ROLE NAME SHA256-HEX`, found {} field(s)",
                    n + 1,
                    fields.len()
                ));
            };
            let role = Role::parse(role).ok_or_else(|| {
                format!(
                    "{}: unknown role `{role}`; the roles are decide, audit and operate",
                    n + 1
                )
            })?;
            let hash = from_hex(hash).ok_or_else(|| {
                format!(
                    "{}: the hash must be 64 hexadecimal digits (the SHA-256 of the key)",
                    n + 1
                )
            })?;
            keys.push(Key {
                role,
                name: name.to_string(),
                hash,
            });
        }
        if keys.is_empty() {
            return Err("1: the keys file has no keys".into());
        }
        Ok(Keys { keys })
    }

    /// The caller a presented key belongs to, if any. Every stored hash is
    /// compared in full, so the time taken does not tell which matched.
    pub fn check(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for k in &self.keys {
            let differs = k
                .hash
                .iter()
                .zip(digest.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if differs == 0 && found.is_none() {
                found = Some(Caller {
                    name: k.name.clone(),
                    role: k.role,
                });
            }
        }
        found
    }
}

/// A new key and its keys-file line. The key is shown once and never
/// stored.
pub fn new_key(role: Role, name: &str) -> Result<(String, String), String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers from the system: {e}"))?;
    let key = format!("rbk_{}", to_hex(&bytes));
    let hash = to_hex(&Sha256::digest(key.as_bytes()));
    Ok((key, format!("{} {name} {hash}", role.as_str())))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_accepted_by_its_line_and_no_other_key_is() {
        let Ok((key, line)) = new_key(Role::Audit, "auditor") else {
            panic!("no key");
        };
        let Ok(keys) = Keys::parse(&format!("# keys\n{line}\n")) else {
            panic!("the line does not parse: {line}");
        };
        let Some(caller) = keys.check(&key) else {
            panic!("the key is refused");
        };
        assert_eq!(
            (caller.name.as_str(), caller.role),
            ("auditor", Role::Audit)
        );
        assert!(keys.check("rbk_guess").is_none());
        assert!(!line.contains(&key), "the line holds the key itself");
    }

    #[test]
    fn a_malformed_keys_file_names_the_line() {
        let e = Keys::parse("decide portal\n").unwrap_err();
        assert!(e.starts_with("1: expected"), "{e}");
        let e = Keys::parse("# c\nboss portal 00\n").unwrap_err();
        assert!(e.starts_with("2: unknown role"), "{e}");
        let e = Keys::parse("decide portal 00\n").unwrap_err();
        assert!(e.contains("64 hexadecimal"), "{e}");
    }

    #[test]
    fn the_probes_are_open_and_the_log_is_for_auditors() {
        assert_eq!(required("GET", "/v1/health"), None);
        assert_eq!(required("GET", "/v1/ready"), None);
        assert_eq!(required("GET", "/v1/decisions/x"), Some(Role::Audit));
        assert_eq!(
            required("POST", "/v1/programmes/p/decisions"),
            Some(Role::Decide)
        );
        assert_eq!(required("GET", "/metrics"), Some(Role::Operate));
    }
}
