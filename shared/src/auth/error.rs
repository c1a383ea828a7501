//! Why a token was not accepted: the caller's fault, or the issuer's keys
//! out of reach. The two have different outcomes (401 against 500/503).

use std::fmt;

/// A failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The token is missing, malformed, badly signed, expired or meant for
    /// someone else: the caller is not authenticated (401).
    InvalidToken(Rejection),
    /// The issuer's JWKS could not be fetched or read, so no token can be
    /// checked: a fault (500/503), never a pass. The reason is for the log.
    JwksUnavailable(String),
}

/// What is wrong with a token. For logs and tests; a caller is only told
/// that it is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// No `Authorization: Bearer <token>`.
    Missing,
    /// Not a JWS compact serialisation (three base64url parts, JSON header).
    Malformed,
    /// The header's `alg` is not one this verifier accepts (RS256, ES256):
    /// `none`, HMAC and the rest are refused before any key is looked at.
    Algorithm(String),
    /// The header has no `kid`, so no key can be chosen.
    MissingKeyId,
    /// No key of the issuer's JWKS has this `kid`.
    UnknownKey(String),
    /// The header's `alg` is not the algorithm of the key its `kid` names.
    AlgorithmMismatch {
        /// The header's `alg`.
        token: String,
        /// The key's algorithm.
        key: String,
    },
    /// The signature does not verify with the key.
    Signature,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still ahead (beyond the leeway).
    NotYetValid,
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` names none of the configured audiences.
    Audience,
    /// A required claim (`exp`, `iss`, `aud`, `sub`) is missing or has the
    /// wrong type.
    Claim(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidToken(rejection) => write!(f, "invalid token: {rejection}"),
            Self::JwksUnavailable(reason) => {
                write!(f, "the issuer's JWKS is unavailable: {reason}")
            }
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no bearer token"),
            Self::Malformed => f.write_str("not a JWT"),
            Self::Algorithm(alg) => write!(f, "algorithm `{alg}` is not accepted"),
            Self::MissingKeyId => f.write_str("no `kid` in the header"),
            Self::UnknownKey(kid) => write!(f, "no key `{kid}` in the issuer's JWKS"),
            Self::AlgorithmMismatch { token, key } => {
                write!(f, "the token says `{token}`, its key is for `{key}`")
            }
            Self::Signature => f.write_str("bad signature"),
            Self::Expired => f.write_str("expired"),
            Self::NotYetValid => f.write_str("not valid yet (`nbf`)"),
            Self::Issuer => f.write_str("wrong issuer (`iss`)"),
            Self::Audience => f.write_str("wrong audience (`aud`)"),
            Self::Claim(claim) => write!(f, "claim `{claim}` missing or malformed"),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<Rejection> for AuthError {
    fn from(rejection: Rejection) -> Self {
        Self::InvalidToken(rejection)
    }
}

#[cfg(feature = "auth")]
impl From<jsonwebtoken::errors::Error> for Rejection {
    /// The validation failures of `jsonwebtoken::decode`, by what they mean
    /// to the caller; anything about the token's encoding is `Malformed`.
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match error.into_kind() {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
                Self::Claim(claim)
            }
            ErrorKind::InvalidSubject => Self::Claim("sub".into()),
            _ => Self::Malformed,
        }
    }
}
