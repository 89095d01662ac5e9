//! The Terminal API's message encryption for local connections, as Adyen's libraries and
//! documentation define it. A key is derived once from the passphrase set up on the terminal
//! (PBKDF2-HMAC-SHA1, salt "AdyenNexoV1Salt", 4,000 rounds, 80 bytes: an HMAC key, an AES key
//! and an IV). Each message is encrypted whole with AES-256-CBC (PKCS#7 padding) under the IV
//! XORed with a fresh 16-byte nonce, and authenticated by an HMAC-SHA256 of its clear text. The
//! envelope keeps the header in clear beside the blob and a security trailer that names the
//! key (identifier and version).

use std::num::NonZeroU32;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hmac, pbkdf2};
use serde_json::{Value, json};

type Aes256CbcEncryptor = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDecryptor = cbc::Decryptor<aes::Aes256>;

const SALT: &[u8] = b"AdyenNexoV1Salt";
const ROUNDS: u32 = 4000;
/// The only version of the scheme there is.
const CRYPTO_VERSION: u64 = 1;

/// The keys derived from a passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedKey {
    hmac: [u8; 32],
    cipher: [u8; 32],
    iv: [u8; 16],
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(…)")
    }
}

impl DerivedKey {
    pub fn from_passphrase(passphrase: &str) -> DerivedKey {
        let mut bytes = [0u8; 80];
        let rounds = NonZeroU32::new(ROUNDS).expect("a positive count");
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA1, rounds, SALT, passphrase.as_bytes(), &mut bytes);
        let mut key = DerivedKey { hmac: [0; 32], cipher: [0; 32], iv: [0; 16] };
        key.hmac.copy_from_slice(&bytes[..32]);
        key.cipher.copy_from_slice(&bytes[32..64]);
        key.iv.copy_from_slice(&bytes[64..]);
        key
    }

    fn iv_for(&self, nonce: &[u8; 16]) -> [u8; 16] {
        let mut iv = self.iv;
        iv.iter_mut().zip(nonce).for_each(|(byte, mask)| *byte ^= mask);
        iv
    }

    fn mac(&self, clear: &[u8]) -> hmac::Tag {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.hmac), clear)
    }
}

/// A key as the terminal knows it: its identifier, version and the derived key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NexoKey {
    pub identifier: String,
    pub version: u32,
    pub derived: DerivedKey,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the message is not a secured nexo message: {0}")]
    Envelope(&'static str),
    #[error("the message is encrypted under key {identifier} version {version}, not this kiosk's")]
    OtherKey { identifier: String, version: u64 },
    #[error("the message does not decrypt under this kiosk's key")]
    Undecryptable,
    #[error("the message's HMAC does not match: it was altered or made with another key")]
    BadHmac,
    #[error("the message's clear header differs from the one it encrypts")]
    HeaderMismatch,
    #[error("no randomness for a nonce")]
    NoRandomness,
}

/// Encrypts a clear message `{"SaleToPOIRequest": {"MessageHeader": ..., ...}}` into its
/// secured envelope under `key`, with a fresh nonce.
pub fn seal(message: &Value, key: &NexoKey) -> Result<Value, CryptoError> {
    let mut nonce = [0u8; 16];
    SystemRandom::new().fill(&mut nonce).map_err(|_| CryptoError::NoRandomness)?;
    seal_with_nonce(message, key, nonce)
}

/// [`seal`] with a given nonce: the same message and nonce always make the same envelope.
pub fn seal_with_nonce(message: &Value, key: &NexoKey, nonce: [u8; 16]) -> Result<Value, CryptoError> {
    let (top, body) = single_entry(message)?;
    let header = body.get("MessageHeader").ok_or(CryptoError::Envelope("no MessageHeader"))?;
    let clear = serde_json::to_vec(message).expect("JSON serializes");
    let blob = Aes256CbcEncryptor::new(&key.derived.cipher.into(), &key.derived.iv_for(&nonce).into())
        .encrypt_padded_vec_mut::<Pkcs7>(&clear);
    Ok(json!({
        top: {
            "MessageHeader": header,
            "NexoBlob": STANDARD.encode(&blob),
            "SecurityTrailer": {
                "AdyenCryptoVersion": CRYPTO_VERSION,
                "KeyIdentifier": key.identifier,
                "KeyVersion": key.version,
                "Nonce": STANDARD.encode(nonce),
                "Hmac": STANDARD.encode(key.derived.mac(&clear).as_ref()),
            },
        }
    }))
}

/// Whether a message is a secured envelope (it carries a blob).
pub fn is_sealed(message: &Value) -> bool {
    single_entry(message).is_ok_and(|(_, body)| body.get("NexoBlob").is_some())
}

/// Opens a secured envelope under `key`: the trailer must name the key, the blob decrypt, its
/// HMAC match and the header it encrypts equal the clear one. Returns the clear message.
pub fn open(envelope: &Value, key: &NexoKey) -> Result<Value, CryptoError> {
    let (_, body) = single_entry(envelope)?;
    let trailer = body.get("SecurityTrailer").ok_or(CryptoError::Envelope("no SecurityTrailer"))?;
    let field = |name: &'static str| trailer.get(name).ok_or(CryptoError::Envelope(name));
    if field("AdyenCryptoVersion")?.as_u64() != Some(CRYPTO_VERSION) {
        return Err(CryptoError::Envelope("AdyenCryptoVersion is not 1"));
    }
    let identifier = field("KeyIdentifier")?.as_str().unwrap_or_default();
    let version = field("KeyVersion")?.as_u64().unwrap_or_default();
    if identifier != key.identifier || version != u64::from(key.version) {
        return Err(CryptoError::OtherKey { identifier: identifier.to_owned(), version });
    }
    let decode = |name: &'static str, value: &Value| {
        let text: String = value.as_str().unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
        STANDARD.decode(text).map_err(|_| CryptoError::Envelope(name))
    };
    let nonce: [u8; 16] =
        decode("Nonce", field("Nonce")?)?.try_into().map_err(|_| CryptoError::Envelope("Nonce is not 16 bytes"))?;
    let hmac = decode("Hmac", field("Hmac")?)?;
    let blob = decode("NexoBlob", body.get("NexoBlob").ok_or(CryptoError::Envelope("no NexoBlob"))?)?;
    let clear = Aes256CbcDecryptor::new(&key.derived.cipher.into(), &key.derived.iv_for(&nonce).into())
        .decrypt_padded_vec_mut::<Pkcs7>(&blob)
        .map_err(|_| CryptoError::Undecryptable)?;
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key.derived.hmac), &clear, &hmac)
        .map_err(|_| CryptoError::BadHmac)?;
    let message: Value = serde_json::from_slice(&clear).map_err(|_| CryptoError::Undecryptable)?;
    let (_, inner) = single_entry(&message)?;
    if inner.get("MessageHeader") != body.get("MessageHeader") {
        return Err(CryptoError::HeaderMismatch);
    }
    Ok(message)
}

/// The one entry of a message: `SaleToPOIRequest` or `SaleToPOIResponse`, and its body.
fn single_entry(message: &Value) -> Result<(&str, &Value), CryptoError> {
    let object = message.as_object().ok_or(CryptoError::Envelope("not a JSON object"))?;
    match object.iter().next() {
        Some((top, body)) if object.len() == 1 => Ok((top.as_str(), body)),
        _ => Err(CryptoError::Envelope("not one SaleToPOIRequest or SaleToPOIResponse")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NexoKey {
        NexoKey {
            identifier: "CryptoKeyIdentifier12345".into(),
            version: 1,
            derived: DerivedKey::from_passphrase("p@ssw0rd123456"),
        }
    }

    #[test]
    fn the_key_is_derived_as_the_vendor_derives_it() {
        // The keys Adyen's libraries derive from this test passphrase of theirs.
        let derived = key().derived;
        assert_eq!(hex::encode(derived.hmac), "733636253b5b98f9a483b1a678d73a58dab2accafbc029ecbe12d60eaa909e32");
        assert_eq!(hex::encode(derived.cipher), "cf2c822761b9f5305bf69970bfa7b659a6724a119db21f8b0e949779f2ea022c");
        assert_eq!(hex::encode(derived.iv), "bb9ba8092e6027c735398dc65977c051");
    }

    #[test]
    fn a_message_seals_as_an_independent_implementation_seals_it() {
        // Computed with Python's `cryptography` (AES-256-CBC, PKCS#7, HMAC-SHA256) for nonce
        // 00 01 .. 0f.
        let clear: Value = serde_json::from_str(
            r#"{"SaleToPOIRequest":{"MessageHeader":{"MessageCategory":"Abort","ServiceID":"a1"}}}"#,
        )
        .unwrap();
        let nonce: [u8; 16] = core::array::from_fn(|i| i as u8);
        let sealed = seal_with_nonce(&clear, &key(), nonce).unwrap();
        let body = &sealed["SaleToPOIRequest"];
        assert_eq!(
            body["NexoBlob"],
            "bCSdA/21eXKqHofUI2X2/BYxBp1gGkxpZMLgaqPoWEIUDRHkujfG2ZBjmLbHJsykC5jJkw4zVkKHiauKWuRpA4H6i4ZovSdYbZuKVSCylvf5/KybGmCGUzorsD3RFIV+"
        );
        assert_eq!(body["SecurityTrailer"]["Hmac"], "0Pn5QkEKJduIyTO1atqZL20PB9S4eaHS/M7fz7/4iHg=");
        assert_eq!(body["SecurityTrailer"]["Nonce"], "AAECAwQFBgcICQoLDA0ODw==");
        assert_eq!(body["MessageHeader"], clear["SaleToPOIRequest"]["MessageHeader"], "the header stays in clear");
        assert_eq!(open(&sealed, &key()).unwrap(), clear);
    }

    #[test]
    fn a_tampered_or_foreign_envelope_does_not_open() {
        let clear = json!({ "SaleToPOIResponse": { "MessageHeader": { "ServiceID": "1" }, "PaymentResponse": {} } });
        let sealed = seal(&clear, &key()).unwrap();
        assert!(is_sealed(&sealed) && !is_sealed(&clear));

        let other = NexoKey { derived: DerivedKey::from_passphrase("another passphrase"), ..key() };
        assert!(matches!(open(&sealed, &other), Err(CryptoError::Undecryptable | CryptoError::BadHmac)));
        let mut renamed = sealed.clone();
        renamed["SaleToPOIResponse"]["SecurityTrailer"]["KeyVersion"] = json!(2);
        assert!(matches!(open(&renamed, &key()), Err(CryptoError::OtherKey { version: 2, .. })));
        let mut forged_header = sealed.clone();
        forged_header["SaleToPOIResponse"]["MessageHeader"]["ServiceID"] = json!("2");
        assert_eq!(open(&forged_header, &key()), Err(CryptoError::HeaderMismatch));
        let mut flipped = sealed;
        let blob = flipped["SaleToPOIResponse"]["NexoBlob"].as_str().unwrap().to_owned();
        let mut bytes = STANDARD.decode(blob).unwrap();
        bytes[0] ^= 1;
        flipped["SaleToPOIResponse"]["NexoBlob"] = json!(STANDARD.encode(bytes));
        assert!(matches!(open(&flipped, &key()), Err(CryptoError::Undecryptable | CryptoError::BadHmac)));
    }
}
