//! A token issuer for tests: signing keys generated in the process (RSA
//! 2048 and EC P-256), tokens signed with them, forgeries, and a real HTTP
//! server on 127.0.0.1 serving their JWKS, which counts its requests and
//! can fail or hang on demand.
//!
//! Keys and signatures are aws-lc-rs's, a library the verifier under test
//! (`shared::auth`, on ring) does not use, so a token is made by one
//! implementation of the algorithm and checked by another.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

/// Where OpenID issuers publish their JWKS, and where [`JwksServer`]
/// serves it (so an issuer URL alone finds the keys).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Seconds since the Unix epoch, the unit of `exp`, `nbf` and `iat`.
pub fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("a clock before 2^63")
}

/// A private key of the test issuer, with its `kid`.
pub struct SigningKey {
    kid: String,
    pair: Pair,
    /// SubjectPublicKeyInfo DER of the public key.
    public_der: Vec<u8>,
}

/// The key pair, of either kind.
enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new RSA 2048 key for RS256.
    pub fn rsa(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let public: PublicKeyX509Der<'_> = pair.public_key().as_der().expect("RSA public key");
        Self {
            kid: kid.to_owned(),
            public_der: public.as_ref().to_vec(),
            pair: Pair::Rsa(pair),
        }
    }

    /// A new EC P-256 key for ES256.
    pub fn ec(kid: &str) -> Self {
        Self::ec_from_pkcs8(kid, &Self::generate_ec_pkcs8()).expect("a generated EC key")
    }

    /// A new EC P-256 private key as PKCS#8 DER, to keep in a file and load
    /// with [`SigningKey::ec_from_pkcs8`] (the local development issuer).
    pub fn generate_ec_pkcs8() -> Vec<u8> {
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key generation");
        pair.to_pkcs8v1()
            .expect("EC key as PKCS#8")
            .as_ref()
            .to_vec()
    }

    /// The ES256 key of a PKCS#8 DER EC P-256 private key.
    pub fn ec_from_pkcs8(kid: &str, pkcs8: &[u8]) -> Result<Self, String> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|e| format!("not a PKCS#8 EC P-256 private key: {e}"))?;
        let public: PublicKeyX509Der<'_> = pair
            .public_key()
            .as_der()
            .map_err(|e| format!("its public key: {e}"))?;
        Ok(Self {
            kid: kid.to_owned(),
            public_der: public.as_ref().to_vec(),
            pair: Pair::Ec(pair),
        })
    }

    /// SubjectPublicKeyInfo DER of the public key (to derive a `kid` from).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm the key signs with (RS256 or ES256).
    pub fn algorithm(&self) -> Algorithm {
        match self.pair {
            Pair::Rsa(_) => Algorithm::RS256,
            Pair::Ec(_) => Algorithm::ES256,
        }
    }

    /// The public JWK as an issuer publishes it (RFC 7518, section 6):
    /// `kid`, `alg`, `use: sig`.
    pub fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &self.pair {
            Pair::Rsa(pair) => {
                let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "n": b64(&public.n), "e": b64(&public.e), "alg": "RS256"})
            }
            Pair::Ec(pair) => {
                // The uncompressed point: 0x04, then x and y.
                let point = pair.public_key().as_ref();
                assert_eq!(
                    (point.len(), point[0]),
                    (65, 4),
                    "an uncompressed P-256 point"
                );
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]),
                       "y": b64(&point[33..]), "alg": "ES256"})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk
    }

    /// The public key in PEM (`PUBLIC KEY`), what an attacker can download.
    pub fn public_key_pem(&self) -> String {
        let body = STANDARD.encode(&self.public_der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// A token with `claims`, signed by this key, its header naming the
    /// key's algorithm and `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm());
        header.kid = Some(self.kid.clone());
        self.sign_with(&header, claims)
    }

    /// A token with `claims` and `header` (whatever its `alg` says),
    /// signed by this key with the key's algorithm.
    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        let header = serde_json::to_value(header).expect("a header serialises");
        let message = forge::signing_input(&header, claims);
        let rng = SystemRandom::new();
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message.as_bytes(), &mut signature)
                    .expect("RSA signing");
                signature
            }
            Pair::Ec(pair) => pair
                .sign(&rng, message.as_bytes())
                .expect("EC signing")
                .as_ref()
                .to_vec(),
        };
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Forged tokens: what an attacker makes without the private key.
pub mod forge {
    use aws_lc_rs::hmac;

    use super::*;

    /// `alg: none`, no signature.
    pub fn unsigned(kid: &str, claims: &Value) -> String {
        let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
        format!("{}.{}.", part(&header), part(claims))
    }

    /// HS256 with the issuer's public key (PEM) as the HMAC secret: the
    /// algorithm confusion attack on verifiers that take `alg` from the token.
    pub fn hs256_with_public_key(key: &SigningKey, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": "HS256", "kid": key.kid()});
        let message = signing_input(&header, claims);
        let secret = hmac::Key::new(hmac::HMAC_SHA256, key.public_key_pem().as_bytes());
        let signature = hmac::sign(&secret, message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// What a JWS signs: the header and the claims, each base64url-encoded.
    pub(super) fn signing_input(header: &Value, claims: &Value) -> String {
        format!("{}.{}", part(header), part(claims))
    }

    /// `token` with its payload replaced by `claims`, header and signature kept.
    pub fn tampered(token: &str, claims: &Value) -> String {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "a compact JWS");
        format!("{}.{}.{}", parts[0], part(claims), parts[2])
    }

    /// `header` and `claims` with a signature made of `signature`'s bytes.
    pub fn with_signature(header: &Value, claims: &Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            part(header),
            part(claims),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    fn part(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }
}

/// How [`JwksServer`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The JWKS document (404 for any other path).
    Up,
    /// `503 Service Unavailable` to everything.
    Failing,
    /// Reads the request and never answers (until the client gives up).
    Hanging,
}

#[derive(Debug)]
struct State {
    document: Mutex<String>,
    mode: Mutex<Mode>,
    requests: AtomicUsize,
    stopping: AtomicBool,
}

/// A JWKS server on a free loopback port, stopped when dropped.
#[derive(Debug)]
pub struct JwksServer {
    port: u16,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl JwksServer {
    /// Serves the public JWKs of `keys`.
    pub fn start(keys: &[&SigningKey]) -> Self {
        Self::serving(jwks(keys))
    }

    /// Serves `document` as the JWKS, whatever it holds.
    pub fn serving(document: Value) -> Self {
        Self::serving_on(0, document).expect("a loopback port")
    }

    /// Serves `document` on 127.0.0.1:`port` (0: a free one).
    pub fn serving_on(port: u16, document: Value) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            document: Mutex::new(document.to_string()),
            mode: Mutex::new(Mode::Up),
            requests: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let shared = Arc::clone(&state);
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let state = Arc::clone(&shared);
                    std::thread::spawn(move || serve(stream, &state));
                }
            }
        });
        Ok(Self {
            port,
            state,
            acceptor: Some(acceptor),
        })
    }

    /// The issuer URL whose well-known JWKS this server is
    /// (`http://127.0.0.1:<port>`).
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.issuer())
    }

    /// How many requests arrived so far (any path, any mode).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Serves the public JWKs of `keys` from now on (a key rotation).
    pub fn set_keys(&self, keys: &[&SigningKey]) {
        *lock(&self.state.document) = jwks(keys).to_string();
    }

    /// Answers as `mode` from now on.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.state.mode) = mode;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// `{"keys": [...]}` of the public JWKs of `keys`.
pub fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection: one request, one answer, closed.
fn serve(mut stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Some(path) = read_request_path(&mut stream, state) else {
        return;
    };
    if state.stopping.load(Ordering::SeqCst) {
        return;
    }
    state.requests.fetch_add(1, Ordering::SeqCst);
    let mode = *lock(&state.mode);
    let (status, body) = match mode {
        Mode::Hanging => {
            hang(&mut stream, state);
            return;
        }
        Mode::Failing => (
            "503 Service Unavailable",
            r#"{"message":"down"}"#.to_owned(),
        ),
        Mode::Up if path == JWKS_PATH => ("200 OK", lock(&state.document).clone()),
        Mode::Up => ("404 Not Found", r#"{"message":"not found"}"#.to_owned()),
    };
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes());
}

/// The path of the request line, once the head has arrived.
fn read_request_path(stream: &mut TcpStream, state: &State) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if state.stopping.load(Ordering::SeqCst) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace().nth(1).map(str::to_owned)
}

/// Keeps the connection open without answering, until the client closes
/// it or the server stops.
fn hang(stream: &mut TcpStream, state: &State) {
    let mut buffer = [0u8; 64];
    while !state.stopping.load(Ordering::SeqCst) {
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(server: &JwksServer, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    }

    #[test]
    fn serves_the_public_keys_counts_requests_and_fails_on_demand() {
        let (rsa, ec) = (SigningKey::rsa("r1"), SigningKey::ec("e1"));
        let server = JwksServer::start(&[&rsa, &ec]);
        let answer = get(&server, JWKS_PATH);
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        let document: Value = serde_json::from_str(body).expect("JSON");
        let keys = document["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (
                &keys[0]["kid"],
                &keys[0]["kty"],
                &keys[0]["alg"],
                &keys[0]["use"]
            ),
            (&json!("r1"), &json!("RSA"), &json!("RS256"), &json!("sig"))
        );
        assert_eq!(
            (
                &keys[1]["kid"],
                &keys[1]["kty"],
                &keys[1]["crv"],
                &keys[1]["alg"]
            ),
            (&json!("e1"), &json!("EC"), &json!("P-256"), &json!("ES256"))
        );
        assert!(
            keys.iter().all(|k| k.get("d").is_none()),
            "no private parts"
        );
        assert!(get(&server, "/other").starts_with("HTTP/1.1 404"));
        server.set_mode(Mode::Failing);
        assert!(get(&server, JWKS_PATH).starts_with("HTTP/1.1 503"));
        assert_eq!(server.requests(), 3);
    }

    #[test]
    fn the_public_key_pem_wraps_the_spki_der() {
        let key = SigningKey::rsa("r1");
        let pem = key.public_key_pem();
        assert!(pem.starts_with(
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
        ));
        assert!(pem.lines().all(|line| line.len() <= 64));
    }
}
