//! Signed release bundles: one file that holds a whole release (every
//! rulebook and the `privacy.yaml` of a folder), a manifest listing each
//! file with its SHA-256, and an Ed25519 signature over the manifest. The
//! service activates a bundle only after the signature verifies with a
//! trusted key and every file matches the manifest, so a bundle copied in
//! half, edited by hand or signed by someone else is refused as a whole;
//! its id is in every decision it makes.
//!
//! The format is JSON, readable with any tool:
//!
//! ```json
//! { "bundle": 1,
//!   "manifest": "{\"id\":\"...\",\"created\":\"...\",\"files\":[{\"path\":\"a/2021.rulebook\",\"sha256\":\"...\",\"bytes\":1234}]}",
//!   "signature": "<Ed25519 signature of the manifest's bytes, hex>",
//!   "signer": "release-team",
//!   "files": { "a/2021.rulebook": "rulebook ..." } }
//! ```
//!
//! The manifest is kept as the very text that was signed, so no
//! re-serialisation can change what is verified.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rulebook::versions::workspace::{normalize, LoadError, PathKind, World};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleFile {
    bundle: u32,
    manifest: String,
    signature: String,
    signer: String,
    files: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    id: String,
    created: String,
    files: Vec<ManifestEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
    path: String,
    sha256: String,
    bytes: usize,
}

/// A bundle whose signature and files were verified.
#[derive(Debug)]
pub struct Release {
    pub id: String,
    pub signer: String,
    pub files: BTreeMap<String, String>,
}

/// The public keys whose bundles are trusted, by name: the lines
/// `NAME ed25519:HEX` of a trust file.
pub struct TrustedKeys(Vec<(String, VerifyingKey)>);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl TrustedKeys {
    pub fn parse(text: &str) -> Result<TrustedKeys, String> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || {
                format!(
                    "line {}: expected `NAME ed25519:HEX` (as `rulebook bundle keygen` prints)",
                    n + 1
                )
            };
            let (name, key) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            let bytes = key
                .trim()
                .strip_prefix("ed25519:")
                .and_then(unhex)
                .ok_or_else(bad)?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
            keys.push((name.to_string(), key));
        }
        if keys.is_empty() {
            return Err("no trusted key in it".into());
        }
        Ok(TrustedKeys(keys))
    }

    pub fn load(path: &Path) -> Result<TrustedKeys, String> {
        let text = rulebook_files::read_limited(path).map_err(|e| e.to_string())?;
        TrustedKeys::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A new signing key: the secret (hex, for the signer's file) and the
/// trust line for the services (`NAME ed25519:HEX`).
pub fn keygen(name: &str) -> Result<(String, String), String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("no random numbers: {e}"))?;
    let key = SigningKey::from_bytes(&secret);
    Ok((
        format!("ed25519-secret:{}", hex(&secret)),
        format!("{name} ed25519:{}", hex(key.verifying_key().as_bytes())),
    ))
}

fn signing_key(text: &str) -> Result<SigningKey, String> {
    let bytes = text
        .trim()
        .strip_prefix("ed25519-secret:")
        .and_then(unhex)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(
            "not a signing key (expected `ed25519-secret:HEX`, as `rulebook bundle keygen` writes)",
        )?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Whether a path inside a bundle is one a release may hold: relative,
/// without `..`, a rulebook or the privacy file.
fn allowed_path(path: &str) -> bool {
    let p = Path::new(path);
    p.components().all(|c| matches!(c, Component::Normal(_)))
        && (rulebook::versions::workspace::is_rulebook(p) || path == crate::privacy::FILE)
}

/// Packs `files` (path inside the release, text) into a signed bundle.
pub fn build(
    files: BTreeMap<String, String>,
    id: &str,
    created: &str,
    secret: &str,
    signer: &str,
) -> Result<String, String> {
    let key = signing_key(secret)?;
    if let Some(bad) = files.keys().find(|p| !allowed_path(p)) {
        return Err(format!("`{bad}` cannot be part of a release"));
    }
    let manifest = Manifest {
        id: id.to_string(),
        created: created.to_string(),
        files: files
            .iter()
            .map(|(path, text)| ManifestEntry {
                path: path.clone(),
                sha256: hex(&Sha256::digest(text.as_bytes())),
                bytes: text.len(),
            })
            .collect(),
    };
    let manifest = serde_json::to_string(&manifest).map_err(|e| e.to_string())?;
    let signature = key.sign(manifest.as_bytes());
    serde_json::to_string(&BundleFile {
        bundle: 1,
        manifest,
        signature: hex(&signature.to_bytes()),
        signer: signer.to_string(),
        files,
    })
    .map_err(|e| e.to_string())
}

/// Verifies a bundle's signature with the trusted keys and every file
/// against the manifest; any difference refuses the whole bundle.
pub fn open(text: &str, trusted: &TrustedKeys) -> Result<Release, String> {
    let doc = rulebook::cases::document::json_from_str(text).map_err(|e| {
        format!(
            "not a bundle (line {}, column {}: {}); it may be incomplete",
            e.line, e.column, e.message
        )
    })?;
    let b: BundleFile =
        serde_json::from_value(doc).map_err(|e| format!("not a bundle of this format: {e}"))?;
    if b.bundle != 1 {
        return Err(format!(
            "bundle format {} is not known here (1 is)",
            b.bundle
        ));
    }
    let signature = unhex(&b.signature)
        .and_then(|s| <[u8; 64]>::try_from(s).ok())
        .map(|s| Signature::from_bytes(&s))
        .ok_or("the signature is not an Ed25519 signature")?;
    let signer = trusted
        .0
        .iter()
        .find(|(_, k)| k.verify(b.manifest.as_bytes(), &signature).is_ok())
        .map(|(name, _)| name.clone())
        .ok_or("the signature does not verify with any trusted key: the bundle was changed after signing, or signed by a key this service does not trust")?;
    let manifest: Manifest = serde_json::from_str(&b.manifest)
        .map_err(|e| format!("the signed manifest is not readable: {e}"))?;
    let listed: BTreeMap<&str, &ManifestEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    if listed.len() != manifest.files.len() {
        return Err("the manifest lists a file twice".into());
    }
    for path in b.files.keys() {
        if !listed.contains_key(path.as_str()) {
            return Err(format!(
                "`{path}` is in the bundle but not in its signed manifest"
            ));
        }
    }
    for (path, entry) in &listed {
        let text = b.files.get(*path).ok_or_else(|| {
            format!("`{path}` is in the signed manifest but missing from the bundle")
        })?;
        if hex(&Sha256::digest(text.as_bytes())) != entry.sha256 || text.len() != entry.bytes {
            return Err(format!("`{path}` differs from the signed manifest"));
        }
        if !allowed_path(path) {
            return Err(format!("`{path}` cannot be part of a release"));
        }
    }
    Ok(Release {
        id: manifest.id,
        signer,
        files: b.files,
    })
}

/// A verified bundle's files as the loader's world, under `root`.
pub struct BundleWorld<'a> {
    pub root: PathBuf,
    pub files: &'a BTreeMap<String, String>,
}

impl BundleWorld<'_> {
    /// Where `path` is inside the bundle. Both are compared normalized, so
    /// a root such as `tools/../rulebooks` meets the folders its rulebooks'
    /// `use ... from "../x"` name, which come normalized.
    fn inside(&self, path: &Path) -> Option<PathBuf> {
        let (root, path) = (normalize(&self.root), normalize(path));
        if root == Path::new(".") {
            let relative = path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            if path == Path::new(".") {
                return Some(PathBuf::new());
            }
            return relative.then_some(path);
        }
        path.strip_prefix(&root).ok().map(Path::to_path_buf)
    }
}

impl World for BundleWorld<'_> {
    fn read(&self, path: &Path) -> Result<String, LoadError> {
        self.inside(path)
            .and_then(|p| self.files.get(p.to_str()?))
            .cloned()
            .ok_or_else(|| LoadError {
                path: path.to_path_buf(),
                message: "not in the bundle".into(),
            })
    }

    fn kind(&self, path: &Path) -> PathKind {
        let Some(inside) = self.inside(path) else {
            return PathKind::Missing;
        };
        let Some(inner) = inside.to_str() else {
            return PathKind::Missing;
        };
        if self.files.contains_key(inner) {
            PathKind::File
        } else if inner.is_empty() || self.files.keys().any(|k| Path::new(k).starts_with(inner)) {
            PathKind::Folder
        } else {
            PathKind::Missing
        }
    }

    fn list(&self, folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let inner = self.inside(folder).unwrap_or_default();
        let mut out: Vec<PathBuf> = self
            .files
            .keys()
            .filter_map(|k| {
                let rest = Path::new(k).strip_prefix(&inner).ok()?;
                let first = rest.components().next()?;
                Some(folder.join(first))
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn release() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("a/2021.rulebook".to_string(), "rulebook a\n".to_string()),
            ("privacy.yaml".to_string(), "a: {}\n".to_string()),
        ])
    }

    #[test]
    fn a_bundle_verifies_only_whole_and_with_a_trusted_key() {
        let (secret, trust) = keygen("release-team").unwrap();
        let trusted = TrustedKeys::parse(&trust).unwrap();
        let text = build(
            release(),
            "2026-12",
            "2026-12-02T10:00:00Z",
            &secret,
            "release-team",
        )
        .unwrap();
        let r = open(&text, &trusted).unwrap();
        assert_eq!(
            (r.id.as_str(), r.signer.as_str()),
            ("2026-12", "release-team")
        );
        assert_eq!(r.files, release());

        // Cut short, as a copy in progress would be.
        assert!(open(&text[..text.len() / 2], &trusted)
            .unwrap_err()
            .contains("incomplete"));
        // A file changed after signing.
        let changed = text.replace("rulebook a", "rulebook b");
        assert!(open(&changed, &trusted)
            .unwrap_err()
            .contains("differs from the signed manifest"));
        // Another signer.
        let (_, other) = keygen("someone").unwrap();
        let err = open(&text, &TrustedKeys::parse(&other).unwrap()).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
        // A path that escapes the release.
        let mut escaping = release();
        escaping.insert("../etc/x.rulebook".into(), String::new());
        assert!(build(escaping, "x", "x", &secret, "x").is_err());
    }

    #[test]
    fn the_world_lists_folders_and_reads_files() {
        let files = release();
        let w = BundleWorld {
            root: PathBuf::from("/bundle"),
            files: &files,
        };
        assert_eq!(w.kind(Path::new("/bundle")), PathKind::Folder);
        assert_eq!(w.kind(Path::new("/bundle/a")), PathKind::Folder);
        assert_eq!(w.kind(Path::new("/bundle/a/2021.rulebook")), PathKind::File);
        assert_eq!(w.kind(Path::new("/bundle/b")), PathKind::Missing);
        assert_eq!(
            w.list(Path::new("/bundle")).unwrap(),
            vec![
                PathBuf::from("/bundle/a"),
                PathBuf::from("/bundle/privacy.yaml")
            ]
        );
        assert_eq!(
            w.read(Path::new("/bundle/a/2021.rulebook")).unwrap(),
            "rulebook a\n"
        );
    }

    /// A root given with `..` or `.` meets the normalized folders that
    /// `use ... from "../a"` names.
    #[test]
    fn roots_with_dots_are_compared_normalized() {
        let files = release();
        let w = BundleWorld {
            root: PathBuf::from("tools/../rules"),
            files: &files,
        };
        assert_eq!(w.kind(Path::new("rules/a")), PathKind::Folder);
        assert_eq!(w.kind(Path::new("tools/../rules/b/../a")), PathKind::Folder);
        assert_eq!(
            w.read(Path::new("rules/a/2021.rulebook")).unwrap(),
            "rulebook a\n"
        );
        assert_eq!(w.kind(Path::new("tools/a")), PathKind::Missing);
        let here = BundleWorld {
            root: PathBuf::from("."),
            files: &files,
        };
        assert_eq!(here.kind(Path::new(".")), PathKind::Folder);
        assert_eq!(here.kind(Path::new("./a/2021.rulebook")), PathKind::File);
        assert_eq!(here.kind(Path::new("a/2021.rulebook")), PathKind::File);
        assert_eq!(
            here.kind(Path::new("../a/2021.rulebook")),
            PathKind::Missing
        );
        assert_eq!(
            here.list(Path::new(".")).unwrap(),
            vec![PathBuf::from("./a"), PathBuf::from("./privacy.yaml")]
        );
    }
}
