//! Encryption at rest: AES-256-GCM through openssl, with a key id in every record.
//!
//! An encrypted record is laid out as
//!
//! ```text
//! [FORMAT_SEALED][id length: u8][key id][nonce: 12 bytes][tag: 16 bytes][ciphertext]
//! ```
//!
//! The plaintext is the plain record (format byte included), and the record's sled key is the
//! additional authenticated data, so a record moved under another trip or log position fails
//! to decrypt instead of being read as someone else's data. Because every record names its
//! key, keys rotate without a flag day: the newest key of the [`Keyring`] seals new records,
//! every key of it opens old ones, and `caravan rekey` re-seals everything with the newest.

use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use thiserror::Error;

/// Format byte of a record sealed with AES-256-GCM.
pub(crate) const FORMAT_SEALED: u8 = 2;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes of an AES-256 key.
pub const KEY_LEN: usize = 32;

/// A key configuration that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    /// The text does not follow `id:base64key[,id:base64key...]`.
    #[error("encryption keys must look like `id:base64key[,id:base64key...]`: {0}")]
    Syntax(String),
    /// A key is not 32 bytes of base64.
    #[error("encryption key {id:?} must be {KEY_LEN} bytes in base64 (openssl rand -base64 32), got {got} bytes")]
    Length {
        /// The key's id.
        id: String,
        /// Its decoded length.
        got: usize,
    },
    /// One id names two keys.
    #[error("encryption key id {0:?} is given twice")]
    Duplicate(String),
}

/// Named AES-256 keys: the first seals, all of them open.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, [u8; KEY_LEN])>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Keyring")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// A keyring from `(id, key)` pairs, the current (sealing) key first.
    pub fn new(keys: Vec<(String, [u8; KEY_LEN])>) -> Result<Keyring, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Syntax("no key given".into()));
        }
        for (i, (id, _)) in keys.iter().enumerate() {
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(KeyError::Syntax(format!(
                    "key id {id:?} must be 1 to 64 visible ASCII characters"
                )));
            }
            if keys[..i].iter().any(|(other, _)| other == id) {
                return Err(KeyError::Duplicate(id.clone()));
            }
        }
        Ok(Keyring { keys })
    }

    /// Parses `id:base64key[,id:base64key...]` (the current key first), the form of
    /// `--encryption-keys` and `CARAVAN_ENCRYPTION_KEYS`.
    pub fn parse(text: &str) -> Result<Keyring, KeyError> {
        let mut keys = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, b64) = part
                .split_once(':')
                .ok_or_else(|| KeyError::Syntax(format!("{:?} has no `id:`", redact(part))))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| KeyError::Syntax(format!("key {id:?} is not base64")))?;
            let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| KeyError::Length {
                id: id.to_owned(),
                got: bytes.len(),
            })?;
            keys.push((id.trim().to_owned(), key));
        }
        Keyring::new(keys)
    }

    /// The ids, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// The id of the key that seals new records.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    fn key(&self, id: &[u8]) -> Option<&[u8; KEY_LEN]> {
        self.keys
            .iter()
            .find(|(known, _)| known.as_bytes() == id)
            .map(|(_, key)| key)
    }

    /// Encrypts `plain` with the current key, binding it to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let (id, key) = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce).expect("the system random generator works");
        let mut tag = [0u8; TAG_LEN];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            key,
            Some(&nonce),
            aad,
            plain,
            &mut tag,
        )
        .expect("AES-256-GCM encryption with a valid key does not fail");
        let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + TAG_LEN + ciphertext.len());
        out.push(FORMAT_SEALED);
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&tag);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts a record made by [`Keyring::seal`] (format byte included).
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let header = sealed_key_id(sealed).ok_or(OpenError::Truncated)?;
        let key = self
            .key(header)
            .ok_or_else(|| OpenError::UnknownKey(String::from_utf8_lossy(header).into_owned()))?;
        let rest = &sealed[2 + header.len()..];
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError::Truncated);
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (tag, ciphertext) = rest.split_at(TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            key,
            Some(nonce),
            aad,
            ciphertext,
            tag,
        )
        .map_err(|_| OpenError::WrongKey(String::from_utf8_lossy(header).into_owned()))
    }
}

/// The key id of a sealed record, if it is long enough to hold one.
pub(crate) fn sealed_key_id(sealed: &[u8]) -> Option<&[u8]> {
    let id_len = *sealed.get(1)? as usize;
    sealed.get(2..2 + id_len)
}

/// Why a sealed record did not open.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum OpenError {
    /// The record names a key that is not configured.
    #[error("it was encrypted with key {0:?}, which is not configured")]
    UnknownKey(String),
    /// The key of that id does not authenticate the record: a wrong key, or damaged data.
    #[error("key {0:?} does not decrypt it (a wrong key for that id, or damaged data)")]
    WrongKey(String),
    /// Too short to be a sealed record.
    #[error("the encrypted record is truncated")]
    Truncated,
}

fn redact(part: &str) -> String {
    match part.char_indices().nth(4) {
        Some((i, _)) => format!("{}…", &part[..i]),
        None => part.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &[(&str, u8)]) -> Keyring {
        Keyring::new(
            spec.iter()
                .map(|(id, fill)| (id.to_string(), [*fill; KEY_LEN]))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn sealed_records_open_with_any_key_of_the_ring_and_only_with_their_aad() {
        let old = ring(&[("k1", 1)]);
        let sealed = old.seal(b"trip\0L1", b"secret plans");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        let rotated = ring(&[("k2", 2), ("k1", 1)]);
        assert_eq!(rotated.open(b"trip\0L1", &sealed).unwrap(), b"secret plans");
        assert_eq!(
            rotated.open(b"other\0L1", &sealed),
            Err(OpenError::WrongKey("k1".into()))
        );
        assert_eq!(
            ring(&[("k1", 9)]).open(b"trip\0L1", &sealed),
            Err(OpenError::WrongKey("k1".into()))
        );
        assert_eq!(
            ring(&[("k2", 2)]).open(b"trip\0L1", &sealed),
            Err(OpenError::UnknownKey("k1".into()))
        );
        assert_eq!(old.open(b"x", &sealed[..10]), Err(OpenError::Truncated));
        assert_eq!(old.open(b"x", &[FORMAT_SEALED]), Err(OpenError::Truncated));
    }

    #[test]
    fn key_specs_are_checked() {
        let good = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let ring = Keyring::parse(&format!("new:{good}, old:{good}")).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["new", "old"]);
        assert!(!format!("{ring:?}").contains(&good));
        assert!(matches!(
            Keyring::parse("k1:aGVsbG8="),
            Err(KeyError::Length { got: 5, .. })
        ));
        assert!(matches!(
            Keyring::parse(&format!("a:{good},a:{good}")),
            Err(KeyError::Duplicate(_))
        ));
        assert!(matches!(Keyring::parse(&good), Err(KeyError::Syntax(_))));
        assert!(matches!(Keyring::parse(""), Err(KeyError::Syntax(_))));
        assert!(matches!(Keyring::parse("k:!!"), Err(KeyError::Syntax(_))));
    }
}
