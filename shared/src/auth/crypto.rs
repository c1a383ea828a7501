//! `jsonwebtoken`'s signature checks on ring, for the two algorithms the
//! verifier accepts: RS256 (2048 to 8192-bit keys) and ES256.
//!
//! ring is in every function that verifies tokens already: rustls uses it
//! for the JWKS fetch and for the AWS SDK's calls. jsonwebtoken's own
//! backends would add a second crypto library for the same two checks
//! (RustCrypto: about 0.4 MiB of `users`; aws-lc more; bench/README.md,
//! Size). Verification only: a process with this provider signs nothing,
//! and any other algorithm is an error, never a panic.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::digest;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};

/// The provider [`install`] makes the process default.
static RING: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| Err(unsupported()),
        ed_pub_components_from_private_key: |_, _| Err(unsupported()),
        compute_digest,
    },
};

/// Makes ring jsonwebtoken's provider for this process, before the first
/// token is checked ([`super::Verifier::new`]). A provider installed
/// before (by the function's own code) stays.
pub(crate) fn install() {
    let _ = RING.install_default();
}

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Err(unsupported())
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    let family = match algorithm {
        Algorithm::RS256 => AlgorithmFamily::Rsa,
        Algorithm::ES256 => AlgorithmFamily::Ec,
        _ => return Err(unsupported()),
    };
    if key.family() != family {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key: key.clone(),
    }))
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

/// One key, checking signatures of one algorithm (RS256 or ES256).
struct RingVerifier {
    algorithm: Algorithm,
    key: DecodingKey,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> signature::Result<()> {
        let checked = match (self.algorithm, self.key.kind()) {
            (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                RsaPublicKeyComponents { n, e }.verify(
                    &RSA_PKCS1_2048_8192_SHA256,
                    message,
                    signature,
                )
            }
            (Algorithm::RS256, DecodingKeyKind::SecretOrDer(der)) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(message, signature)
            }
            // An EC key is its uncompressed point (`DecodingKey::from_jwk`).
            (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(message, signature)
            }
            _ => return Err(signature::Error::new()),
        };
        // ring says no more than that (`Unspecified`).
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_nothing_and_checks_only_rs256_and_es256() {
        install();
        let secret = EncodingKey::from_secret(b"secret").expect("a secret");
        assert!(jsonwebtoken::encode(&jsonwebtoken::Header::default(), &"{}", &secret).is_err());
        let rsa = DecodingKey::from_rsa_components("AQAB", "AQAB").expect("components");
        let ec = DecodingKey::from_ec_components("AAAA", "AAAA").expect("components");
        let hmac = DecodingKey::from_secret(b"secret").expect("a secret");
        let cases = [
            (Algorithm::RS256, &rsa, true),
            (Algorithm::ES256, &ec, true),
            (Algorithm::RS256, &ec, false),
            (Algorithm::ES256, &rsa, false),
            (Algorithm::HS256, &hmac, false),
            (Algorithm::RS384, &rsa, false),
            (Algorithm::PS256, &rsa, false),
            (Algorithm::ES384, &ec, false),
            (Algorithm::EdDSA, &ec, false),
        ];
        for (algorithm, key, built) in cases {
            assert_eq!(verifier(&algorithm, key).is_ok(), built, "{algorithm:?}");
        }
        // A key ring refuses (a 1-byte modulus) fails the check, no panic.
        let check = verifier(&Algorithm::RS256, &rsa).expect("an RS256 verifier");
        assert!(check.verify(b"message", &vec![0; 256]).is_err());
    }
}
