//! TLS to a terminal on the venue's network. The kiosk connects to its address, but trusts
//! only the terminal vendor's root certificate and checks the name the terminal's certificate
//! must carry (`<POIID>.<environment>.terminal.adyen.com`), not the address: any terminal of
//! another shop, or a laptop on the network, is refused. A certificate with no subject
//! alternative name is checked by its common name, as the vendor's own libraries do.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// A TLS client setup that trusts `root_pem` alone and wants the terminal named `name`.
pub fn client_config(root_pem: &[u8], name: &str) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(root_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the root certificate is not PEM: {e}"))?;
    if certificates.is_empty() {
        return Err("the root certificate file holds no certificate".into());
    }
    for certificate in certificates {
        roots.add(certificate).map_err(|e| format!("the root certificate cannot be used: {e}"))?;
    }
    let name = ServerName::try_from(name.to_owned()).map_err(|_| format!("\"{name}\" is not a terminal name"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(TerminalName { roots, name, provider: provider.clone() });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// Checks the terminal's certificate: signed under the vendor's root, for the terminal's name
/// whatever address it was reached at.
#[derive(Debug)]
struct TerminalName {
    roots: RootCertStore,
    name: ServerName<'static>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for TerminalName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _address: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let certificate = ParsedCertificate::try_from(end_entity)?;
        let algorithms = self.provider.signature_verification_algorithms.all;
        verify_server_cert_signed_by_trust_anchor(&certificate, &self.roots, intermediates, now, algorithms)?;
        match verify_server_name(&certificate, &self.name) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(refused) => match common_name_alone(end_entity) {
                Some(common_name) if common_name == self.name.to_str() => Ok(ServerCertVerified::assertion()),
                _ => Err(refused),
            },
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The subject's common name of a certificate that has no subject alternative name (one that
/// has them is named by them alone).
fn common_name_alone(der: &CertificateDer<'_>) -> Option<String> {
    use x509_cert::der::Decode;
    use x509_cert::der::asn1::{PrintableStringRef, Utf8StringRef};
    const COMMON_NAME: x509_cert::der::oid::ObjectIdentifier =
        x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    const SUBJECT_ALT_NAME: x509_cert::der::oid::ObjectIdentifier =
        x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.17");
    let certificate = x509_cert::Certificate::from_der(der.as_ref()).ok()?;
    let tbs = &certificate.tbs_certificate;
    if tbs.extensions.iter().flatten().any(|extension| extension.extn_id == SUBJECT_ALT_NAME) {
        return None;
    }
    let attribute = tbs.subject.0.iter().flat_map(|name| name.0.iter()).find(|a| a.oid == COMMON_NAME)?;
    let value = &attribute.value;
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|text| text.as_str().to_owned())
        .or_else(|_| value.decode_as::<PrintableStringRef<'_>>().map(|text| text.as_str().to_owned()))
        .ok()
}

/// Why a handshake failed, in words for the staff screen and the logs.
pub fn describe(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForName)
        | rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }) => {
            "the terminal's certificate is not for this terminal".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the terminal's certificate is not issued under the configured root".into()
        }
        other => other.to_string(),
    }
}
