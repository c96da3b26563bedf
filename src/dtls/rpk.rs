//! Raw public keys (RFC 7250) with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 (RFC 7251) on P-256:
//! the credentials, the ClientHello extensions (RFC 4492, RFC 5246 section 7.4.1.4.1, RFC
//! 7250), the server's Certificate, ServerKeyExchange and CertificateRequest, and the
//! client's Certificate, ClientKeyExchange and CertificateVerify.
//!
//! Keys are accepted in the forms the LwM2M Security object holds them in:
//! - the server's public key (resource 4): its SubjectPublicKeyInfo (DER, 91 bytes, or with
//!   a compressed point), the SEC1 point (65 bytes uncompressed or 33 compressed) or the raw
//!   X || Y coordinates (64 bytes);
//! - the client's private key (resource 5): the raw 32-byte scalar, an ECPrivateKey (SEC1
//!   DER, RFC 5915) or a PKCS#8 PrivateKeyInfo (RFC 5208) wrapping one, on P-256.
//!
//! What the server sends: a message that does not parse is dropped (anyone can send one
//! before the keys exist); one that parses but is wrong fails the session: a server key
//! other than the configured one ([`Error::BadServerKey`], a bad_certificate alert), a
//! ServerKeyExchange whose signature does not verify ([`Error::BadSignature`], a
//! decrypt_error alert), parameters this client did not offer ([`Error::Protocol`]).

use super::sha256::{hmac, Sha256};
use p256::elliptic_curve::ops::{LinearCombination, Reduce};
use p256::elliptic_curve::point::{AffineCoordinates, DecompressPoint};
use p256::elliptic_curve::Field;
use p256::{AffinePoint, FieldElement, NonZeroScalar, ProjectivePoint, PublicKey, Scalar, U256};

use super::{
    handshake_header, prf, Credentials, Error, Reader, Session, SessionKeys, CLIENT_KEY_EXCHANGE,
    MAX_CLIENT_MESSAGE, SERVER_KEY_EXCHANGE,
};
use crate::buf::{NoSpace, Writer};

/// TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8.
pub const ECDHE_ECDSA_WITH_AES_128_CCM_8: u16 = 0xC0AE;

// The longest client message (the Certificate) fits the buffer flights are built in.
const _: () = assert!(12 + 3 + SPKI_LEN <= MAX_CLIENT_MESSAGE);

// Handshake message types of the certificate exchange (RFC 5246 section 7.4).
pub(super) const CERTIFICATE: u8 = 11;
pub(super) const CERTIFICATE_REQUEST: u8 = 13;
const CERTIFICATE_VERIFY: u8 = 15;

/// Alert descriptions sent when the server's key or signature is wrong.
pub(super) const BAD_CERTIFICATE: u8 = 42;
pub(super) const DECRYPT_ERROR: u8 = 51;

/// RFC 7250's certificate type RawPublicKey.
const RAW_PUBLIC_KEY: u8 = 2;
/// secp256r1 (RFC 8422 NamedCurve 23), ecdsa_secp256r1_sha256 (hash 4, signature 3).
const SECP256R1: u16 = 23;
const ECDSA_SHA256: u16 = 0x0403;
/// ClientCertificateType ecdsa_sign (RFC 8422 section 5.5).
const ECDSA_SIGN: u8 = 64;

/// The DER of a P-256 SubjectPublicKeyInfo up to its uncompressed point's X || Y.
const SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
    0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];
/// The SubjectPublicKeyInfo's length.
const SPKI_LEN: usize = 91;
/// The DER object identifiers id-ecPublicKey and prime256v1 (their contents).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// A client's raw-public-key credentials: its private key and its public key, and the
/// server's public key, each as P-256 coordinates.
pub struct RpkKeys {
    private: [u8; 32],
    /// Derived by the first handshake that sends it (all zeros until then): making a
    /// session, as restoring saved keys or a Bootstrap-Finish does, takes no scalar
    /// multiplication, nor its 2.7 KB of stack under those callers' frames.
    public: [u8; 64],
    server: [u8; 64],
}

impl RpkKeys {
    /// Keys from the Security object's forms (see the module's documentation).
    pub fn new(private_key: &[u8], server_public_key: &[u8]) -> Result<RpkKeys, Error> {
        let private = parse_private_key(private_key).ok_or(Error::BadCredentials)?;
        scalar_of(&private).ok_or(Error::BadCredentials)?;
        let server = parse_public_key(server_public_key).ok_or(Error::BadCredentials)?;
        Ok(RpkKeys {
            private,
            public: [0; 64],
            server: xy(&server),
        })
    }

    /// Derives this client's public key, once.
    fn derive_public(&mut self) {
        if self.public != [0; 64] {
            return;
        }
        if let Some(scalar) = scalar_of(&self.private) {
            self.public = xy(&PublicKey::from_secret_scalar(&scalar));
        }
    }

    /// The private key (32 bytes) and the server's public key (X || Y): the raw forms
    /// [`RpkKeys::new`] also takes.
    pub fn raw(&self) -> (&[u8; 32], &[u8; 64]) {
        (&self.private, &self.server)
    }
}

/// The raw-public-key handshake's state, kept so that the client's flight can be rebuilt.
pub struct RpkState {
    keys: RpkKeys,
    /// Randomness for the ephemeral key (from the platform, at each start).
    seed: [u8; 32],
    /// The ephemeral public key (X || Y) the ClientKeyExchange carries.
    ephemeral: [u8; 64],
    /// The CertificateVerify's signature (r || s).
    signature: [u8; 64],
    /// The server agreed to a raw public key from the client.
    client_rpk: bool,
    /// The server asked for the client's certificate.
    requested: bool,
    /// The server's Certificate matched; its ServerKeyExchange verified.
    certified: bool,
    exchanged: bool,
}

impl RpkState {
    pub fn new(keys: RpkKeys) -> RpkState {
        RpkState {
            keys,
            seed: [0; 32],
            ephemeral: [0; 64],
            signature: [0; 64],
            client_rpk: false,
            requested: false,
            certified: false,
            exchanged: false,
        }
    }

    /// Forgets the previous handshake.
    pub(super) fn restart(&mut self) {
        self.ephemeral = [0; 64];
        self.signature = [0; 64];
        self.client_rpk = false;
        self.requested = false;
        self.certified = false;
        self.exchanged = false;
    }

    /// The client's messages before its ChangeCipherSpec: Certificate (when requested),
    /// ClientKeyExchange, CertificateVerify (when requested).
    pub(super) fn client_messages(&self) -> u8 {
        if self.requested {
            3
        } else {
            1
        }
    }

    /// The `n`th of the client's messages (`seq` its message_seq) into `w`.
    pub(super) fn client_message(
        &self,
        n: u8,
        seq: u16,
        w: &mut Writer<'_>,
    ) -> Result<(), NoSpace> {
        match (self.requested, n) {
            (true, 0) => {
                handshake_header(w, CERTIFICATE, seq, 3 + SPKI_LEN)?;
                w.put(&[0, 0, SPKI_LEN as u8])?;
                w.put(&SPKI_PREFIX)?;
                w.put(&self.keys.public)
            }
            (false, 0) | (true, 1) => {
                handshake_header(w, CLIENT_KEY_EXCHANGE, seq, 66)?;
                w.put(&[65, 4])?;
                w.put(&self.ephemeral)
            }
            _ => {
                let mut der = [0u8; 72];
                let n = der_signature(&self.signature, &mut der)?;
                handshake_header(w, CERTIFICATE_VERIFY, seq, 4 + n)?;
                w.put(&ECDSA_SHA256.to_be_bytes())?;
                w.put(&(n as u16).to_be_bytes())?;
                w.put(der.get(..n).ok_or(NoSpace)?)
            }
        }
    }
}

impl SessionKeys<'_> {
    /// Raw public keys, in the forms [`RpkKeys::new`] takes.
    pub fn rpk(private_key: &[u8], server_public_key: &[u8]) -> Result<Self, Error> {
        let keys = RpkKeys::new(private_key, server_public_key)?;
        Ok(SessionKeys(super::Given::Rpk(keys)))
    }
}

/// The session's raw-public-key state, if it has one.
fn rpk(s: &mut Session) -> Option<&mut RpkState> {
    match &mut s.credentials {
        Credentials::Rpk(r) => Some(r),
        Credentials::Psk { .. } => None,
    }
}

impl Session {
    /// The private key (32 bytes) and the server's public key (X || Y) of a raw-public-key
    /// session, in the raw forms [`Session::idle_rpk`] takes.
    pub fn rpk_keys(&self) -> Option<(&[u8; 32], &[u8; 64])> {
        match &self.credentials {
            Credentials::Rpk(state) => Some(state.keys.raw()),
            Credentials::Psk { .. } => None,
        }
    }

    /// A session with raw-public-key credentials (forms: the module's documentation), to be
    /// started with [`Session::start`] and [`Session::seed_ephemeral`].
    pub fn idle_rpk(private_key: &[u8], server_public_key: &[u8]) -> Result<Session, Error> {
        Ok(Session::from_keys(SessionKeys::rpk(
            private_key,
            server_public_key,
        )?))
    }

    /// A raw-public-key session that starts its handshake at the next
    /// [`Session::poll_transmit`]; `random` is the client random, `seed` fresh randomness
    /// for the ephemeral key (both from the platform's random source).
    pub fn new_rpk(
        private_key: &[u8],
        server_public_key: &[u8],
        random: [u8; 32],
        seed: [u8; 32],
        now: u64,
    ) -> Result<Session, Error> {
        let mut s = Session::idle_rpk(private_key, server_public_key)?;
        s.start(random, now);
        s.seed_ephemeral(seed);
        Ok(s)
    }

    /// Gives the handshake just started fresh randomness for its ephemeral key (call after
    /// [`Session::start`]; nothing for a PSK session). The key is derived from it, the
    /// private key and the client random, so a weak seed alone does not give it away.
    pub fn seed_ephemeral(&mut self, seed: [u8; 32]) {
        if let Some(r) = rpk(self) {
            r.seed = seed;
        }
    }

    /// The ClientHello's extensions for raw public keys (nothing for a PSK session):
    /// supported_groups, ec_point_formats, signature_algorithms, client_certificate_type
    /// and server_certificate_type.
    pub(super) fn write_rpk_extensions(&self, w: &mut Writer<'_>) -> Result<(), NoSpace> {
        if !matches!(self.credentials, Credentials::Rpk(_)) {
            return Ok(());
        }
        w.put(&[0, 10, 0, 4, 0, 2, 0, SECP256R1 as u8])?;
        w.put(&[0, 11, 0, 2, 1, 0])?;
        w.put(&[0, 13, 0, 4, 0, 2, 4, 3])?;
        w.put(&[0, 19, 0, 2, 1, RAW_PUBLIC_KEY])?;
        w.put(&[0, 20, 0, 2, 1, RAW_PUBLIC_KEY])
    }

    /// The ServerHello's extensions (after its compression method): `Ok(false)` when they
    /// do not parse, an error when the server did not choose a raw public key for itself
    /// (unless it `resumed` a session: its key was checked in the full handshake).
    pub(super) fn rpk_server_hello(
        &mut self,
        extensions: &[u8],
        resumed: bool,
    ) -> Result<bool, Error> {
        let Some(r) = rpk(self) else { return Ok(true) };
        if resumed {
            return Ok(true);
        }
        r.client_rpk = false;
        let mut list = Reader(extensions);
        let Some(all) = vec16(&mut list) else {
            return Err(Error::Protocol); // no extensions: an X.509 certificate
        };
        let mut all = Reader(all);
        let mut server_rpk = false;
        while !all.0.is_empty() {
            let (Some(ext), Some(data)) = (all.u16(), vec16(&mut all)) else {
                return Ok(false);
            };
            match (ext, data) {
                (19, [RAW_PUBLIC_KEY]) => r.client_rpk = true,
                (20, [RAW_PUBLIC_KEY]) => server_rpk = true,
                (19 | 20, _) => return Err(Error::Protocol),
                _ => {}
            }
        }
        if server_rpk {
            Ok(true)
        } else {
            Err(Error::Protocol)
        }
    }

    /// True for a raw-public-key session.
    pub(super) fn is_rpk(&self) -> bool {
        matches!(self.credentials, Credentials::Rpk(_))
    }

    /// The server's flight up to ServerHelloDone (which the caller takes): Certificate,
    /// ServerKeyExchange, CertificateRequest, in that order; out-of-order messages are
    /// dropped (the server sends its flight again).
    pub(super) fn rpk_message(&mut self, msg_type: u8, seq: u16, body: &[u8]) -> Result<(), Error> {
        if seq != self.next_receive_seq {
            return Ok(());
        }
        let client_random = self.client_random;
        let server_random = self.server_random;
        let Some(r) = rpk(self) else { return Ok(()) };
        let taken = match (msg_type, r.certified, r.exchanged) {
            (CERTIFICATE, false, _) => r.certificate(body)?,
            (SERVER_KEY_EXCHANGE, true, false) => {
                let Some(master) = r.server_key_exchange(body, &client_random, &server_random)?
                else {
                    return Ok(());
                };
                self.master = master;
                true
            }
            (CERTIFICATE_REQUEST, true, true) => r.certificate_request(body)?,
            _ => return Err(Error::Protocol),
        };
        if taken {
            self.transcript_add(msg_type, seq, body)?;
            self.next_receive_seq = seq.wrapping_add(1);
        }
        Ok(())
    }

    /// At ServerHelloDone: fails unless the server's key exchange was taken; then adds the
    /// client's messages to the transcript, signing it for the CertificateVerify.
    pub(super) fn rpk_client_flight(&mut self) -> Result<(), Error> {
        let seq = self.hello_seq;
        let mut transcript = self.transcript.clone();
        let Some(r) = rpk(self) else {
            return Ok(());
        };
        if !r.exchanged {
            return Err(Error::Protocol);
        }
        if r.requested {
            r.keys.derive_public();
        }
        for n in 0..r.client_messages() {
            if n == 2 {
                let hash: [u8; 32] = transcript.clone().finalize();
                r.signature = sign(&r.keys.private, &hash).ok_or(Error::Protocol)?;
            }
            let mut m = [0u8; MAX_CLIENT_MESSAGE];
            let mut mw = Writer::new(&mut m);
            r.client_message(n, seq.wrapping_add(u16::from(n)).wrapping_add(1), &mut mw)
                .map_err(|_| Error::Protocol)?;
            transcript.update(mw.written());
        }
        self.transcript = transcript;
        Ok(())
    }
}

impl RpkState {
    /// The server's Certificate: its SubjectPublicKeyInfo must be the configured key.
    fn certificate(&mut self, body: &[u8]) -> Result<bool, Error> {
        let mut r = Reader(body);
        let Some(spki) = r.u24().and_then(|len| r.take(len)) else {
            return Ok(false);
        };
        if !r.0.is_empty() {
            return Ok(false);
        }
        let expected = spki.strip_prefix(&SPKI_PREFIX[..]);
        if expected != Some(&self.keys.server[..]) {
            return Err(Error::BadServerKey);
        }
        self.certified = true;
        Ok(true)
    }

    /// The server's ServerKeyExchange: named curve secp256r1, an uncompressed point and an
    /// ECDSA-SHA256 signature over both randoms and these parameters by the server's key.
    /// `Ok(None)` when it does not parse; the master secret when it verified.
    fn server_key_exchange(
        &mut self,
        body: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Result<Option<[u8; 48]>, Error> {
        let mut r = Reader(body);
        let (Some(curve_type), Some(curve), Some(point)) = (r.u8(), r.u16(), r.vec8()) else {
            return Ok(None);
        };
        let Some(params) = body.get(..body.len().saturating_sub(r.0.len())) else {
            return Ok(None);
        };
        let (Some(algorithm), Some(signature)) = (r.u16(), vec16(&mut r)) else {
            return Ok(None);
        };
        if !r.0.is_empty() {
            return Ok(None);
        }
        if curve_type != 3 || curve != SECP256R1 || algorithm != ECDSA_SHA256 {
            return Err(Error::Protocol);
        }
        let hash = sha256(&[client_random, server_random, params]);
        if !verify(&self.keys.server, &hash, signature) {
            return Err(Error::BadSignature);
        }
        let server_point = from_sec1(point).ok_or(Error::Protocol)?;
        // The ephemeral key: the platform's seed, hedged with the private key and the
        // client random.
        let digest = sha256(&[&self.seed, &self.keys.private, client_random]);
        let scalar = <Scalar as Reduce<U256>>::reduce_bytes(&digest.into());
        let ephemeral =
            Option::<NonZeroScalar>::from(NonZeroScalar::new(scalar)).ok_or(Error::Protocol)?;
        self.ephemeral = xy(&PublicKey::from_secret_scalar(&ephemeral));
        let shared = p256::ecdh::diffie_hellman(ephemeral, server_point.as_affine());
        let mut master = [0u8; 48];
        prf::prf(
            shared.raw_secret_bytes(),
            b"master secret",
            client_random,
            server_random,
            &mut master,
        );
        self.exchanged = true;
        Ok(Some(master))
    }

    /// The server's CertificateRequest: it must accept an ECDSA key signing with SHA-256,
    /// and a raw public key must have been agreed for the client.
    fn certificate_request(&mut self, body: &[u8]) -> Result<bool, Error> {
        let mut r = Reader(body);
        let (Some(types), Some(algorithms), Some(_authorities)) =
            (r.vec8(), vec16(&mut r), vec16(&mut r))
        else {
            return Ok(false);
        };
        let ecdsa_sha256 = algorithms
            .chunks_exact(2)
            .any(|a| a == ECDSA_SHA256.to_be_bytes());
        // A loop, not `contains`: that one is core's memchr, 338 B for a few bytes here.
        #[allow(clippy::manual_contains)]
        let ecdsa_sign = types.iter().any(|&t| t == ECDSA_SIGN);
        if !self.client_rpk || !ecdsa_sign || !ecdsa_sha256 {
            return Err(Error::Protocol);
        }
        self.requested = true;
        Ok(true)
    }
}

/// SHA-256 of the concatenation of `parts` (one copy of the hashing code for both callers).
#[inline(never)]
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// A vector with a two-byte length.
fn vec16<'a>(r: &mut Reader<'a>) -> Option<&'a [u8]> {
    let n = r.u16()?;
    r.take(usize::from(n))
}

// Points are read and written here rather than through sec1's `EncodedPoint`: every
// reading of one of those goes through an `expect` whose error's `Debug` drags core's
// formatting machinery and der's error descriptions, several kilobytes, into the image.

/// The curve's b (y² = x³ - 3x + b; SEC 2, section 2.4.2).
const CURVE_B: [u8; 32] = [
    0x5A, 0xC6, 0x35, 0xD8, 0xAA, 0x3A, 0x93, 0xE7, 0xB3, 0xEB, 0xBD, 0x55, 0x76, 0x98, 0x86, 0xBC,
    0x65, 0x1D, 0x06, 0xB0, 0xCC, 0x53, 0xB0, 0xF6, 0x3B, 0xCE, 0x3C, 0x3E, 0x27, 0xD2, 0x60, 0x4B,
];

/// x³ - 3x + b: the square of the ordinates of the points with abscissa `x`.
fn y_squared(x: &FieldElement) -> Option<FieldElement> {
    let b = Option::<FieldElement>::from(FieldElement::from_bytes(&CURVE_B.into()))?;
    Some(x.square().multiply(x).sub(&x.double().add(x)).add(&b))
}

/// The point X || Y, when its coordinates are below p and it is on the curve.
fn from_xy(xy: &[u8; 64]) -> Option<PublicKey> {
    let x: [u8; 32] = super::array(xy.get(..32));
    let y: [u8; 32] = super::array(xy.get(32..));
    let fx = Option::<FieldElement>::from(FieldElement::from_bytes(&x.into()))?;
    let fy = Option::<FieldElement>::from(FieldElement::from_bytes(&y.into()))?;
    if fy.square() != y_squared(&fx)? {
        return None;
    }
    // The two ordinates of x differ in parity: Y's picks Y.
    from_x(&x, fy.is_odd().into())
}

/// The point with abscissa `x` and an ordinate of the given parity.
fn from_x(x: &[u8; 32], y_is_odd: bool) -> Option<PublicKey> {
    let point = Option::<AffinePoint>::from(AffinePoint::decompress(
        &(*x).into(),
        u8::from(y_is_odd).into(),
    ))?;
    PublicKey::from_affine(point).ok()
}

/// A SEC1 point: 4 || X || Y, or 2 or 3 (the parity of Y) || X.
fn from_sec1(bytes: &[u8]) -> Option<PublicKey> {
    match bytes.split_first()? {
        (4, xy) if xy.len() == 64 => from_xy(&super::array(Some(xy))),
        (&tag @ (2 | 3), x) if x.len() == 32 => from_x(&super::array(Some(x)), tag == 3),
        _ => None,
    }
}

/// A public key's X || Y.
fn xy(key: &PublicKey) -> [u8; 64] {
    let point = key.as_affine();
    let x = point.x();
    let y = Option::<FieldElement>::from(FieldElement::from_bytes(&x))
        .and_then(|x| y_squared(&x))
        .and_then(|y2| Option::<FieldElement>::from(y2.sqrt()))
        .map(|r| {
            if bool::from(r.is_odd()) == bool::from(point.y_is_odd()) {
                r
            } else {
                r.neg()
            }
        })
        .unwrap_or(FieldElement::ZERO);
    let mut out = [0u8; 64];
    for (o, b) in out.iter_mut().zip(x.iter().chain(y.to_bytes().iter())) {
        *o = *b;
    }
    out
}

/// True when the DER ECDSA `signature` of `hash` verifies under `key` (X || Y).
fn verify(key: &[u8; 64], hash: &[u8; 32], signature: &[u8]) -> bool {
    let Some(q) = from_xy(key) else {
        return false;
    };
    let Some((r, s)) = parse_der_signature(signature) else {
        return false;
    };
    // ECDSA verification (SEC 1, section 4.1.4) on p256's arithmetic: ecdsa's own goes
    // through Signature accessors that unwrap. r and s must be in [1, n - 1].
    let nonzero = |b: [u8; 32]| Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(b.into()));
    let (Some(r), Some(s)) = (nonzero(r), nonzero(s)) else {
        return false;
    };
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&(*hash).into());
    // Scalar's inversion (CtOption), not NonZeroScalar's, which unwraps one.
    let Some(s_inv) = Option::<Scalar>::from(Field::invert(&*s)) else {
        return false;
    };
    let x = ProjectivePoint::lincomb(
        &ProjectivePoint::GENERATOR,
        &(z * s_inv),
        &q.to_projective(),
        &(*r * s_inv),
    )
    .to_affine()
    .x();
    *r == <Scalar as Reduce<U256>>::reduce_bytes(&x)
}

/// The deterministic ECDSA signature r || s of `hash` by `private` (SEC 1, section 4.1.3,
/// with RFC 6979's nonce: the signature p256's ECDSA gives, without its `Signature` code,
/// which unwraps). The arithmetic is p256's, constant-time.
fn sign(private: &[u8; 32], hash: &[u8; 32]) -> Option<[u8; 64]> {
    let d = scalar_of(private)?;
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&(*hash).into());
    let k = nonce(private, &z)?;
    let big_r = (ProjectivePoint::GENERATOR * *k).to_affine();
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&big_r.x());
    let k_inv = Option::<Scalar>::from(Field::invert(&*k))?;
    let s = k_inv * (z + r * *d);
    if bool::from(r.is_zero() | s.is_zero()) {
        return None;
    }
    let mut out = [0u8; 64];
    for (o, b) in out
        .iter_mut()
        .zip(r.to_bytes().iter().chain(s.to_bytes().iter()))
    {
        *o = *b;
    }
    Some(out)
}

/// RFC 6979's nonce k (section 3.2) for P-256 and HMAC-SHA-256, where qlen = hlen = 256:
/// `private` is int2octets(x) and `z`, the hash reduced modulo n, gives bits2octets(h1).
/// A candidate of n or more is drawn again; `None` after 8 such, of probability below
/// 2^-250.
fn nonce(private: &[u8; 32], z: &Scalar) -> Option<NonZeroScalar> {
    let h = z.to_bytes();
    let (mut k, mut v) = ([0u8; 32], [1u8; 32]);
    for sep in [0u8, 1] {
        k = hmac(&k, &[&v, &[sep], private, &h]);
        v = hmac(&k, &[&v]);
    }
    for _ in 0..8 {
        v = hmac(&k, &[&v]);
        if let Some(n) = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(v.into())) {
            return Some(n);
        }
        k = hmac(&k, &[&v, &[0]]);
        v = hmac(&k, &[&v]);
    }
    None
}

/// r || s as a DER Ecdsa-Sig-Value into `out`: its length.
fn der_signature(rs: &[u8; 64], out: &mut [u8; 72]) -> Result<usize, NoSpace> {
    let (r, s) = rs.split_at(32);
    let (r, s) = (int(r), int(s));
    let len = |(d, pad): (&[u8], bool)| d.len() + usize::from(pad);
    let mut w = Writer::new(out);
    w.put(&[0x30, (4 + len(r) + len(s)) as u8])?;
    for (digits, pad) in [r, s] {
        w.put(&[2, len((digits, pad)) as u8])?;
        if pad {
            w.put_u8(0)?;
        }
        w.put(digits)?;
    }
    Ok(w.len())
}

/// A DER INTEGER's significant bytes, and whether a zero must come first (top bit set).
fn int(half: &[u8]) -> (&[u8], bool) {
    let start = half.iter().position(|b| *b != 0).unwrap_or(31);
    let digits = half.get(start..).unwrap_or_default();
    (digits, digits.first().is_some_and(|b| b & 0x80 != 0))
}

/// A DER Ecdsa-Sig-Value's r and s, each as 32 big-endian bytes.
fn parse_der_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let mut outer = Reader(der);
    let seq = der_item(&mut outer, 0x30)?;
    if !outer.0.is_empty() {
        return None;
    }
    let mut r = Reader(seq);
    let a = der_uint32(der_item(&mut r, 0x02)?)?;
    let b = der_uint32(der_item(&mut r, 0x02)?)?;
    r.0.is_empty().then_some((a, b))
}

/// A DER INTEGER's contents (non-negative, at most 32 significant bytes) as 32 bytes.
fn der_uint32(int: &[u8]) -> Option<[u8; 32]> {
    let start = int.iter().position(|b| *b != 0).unwrap_or(int.len());
    let digits = int.get(start..)?;
    let pad = 32usize.checked_sub(digits.len())?;
    let mut out = [0u8; 32];
    for (d, s) in out.iter_mut().skip(pad).zip(digits) {
        *d = *s;
    }
    Some(out)
}

/// The contents of the next DER item, which must have tag `tag` (definite lengths up to
/// 65535 bytes).
fn der_item<'a>(r: &mut Reader<'a>, tag: u8) -> Option<&'a [u8]> {
    if r.u8()? != tag {
        return None;
    }
    let len = match r.u8()? {
        n @ 0..=0x7F => usize::from(n),
        0x81 => usize::from(r.u8()?),
        0x82 => usize::from(r.u16()?),
        _ => return None,
    };
    r.take(len)
}

/// A private key as a scalar in [1, n − 1].
fn scalar_of(private: &[u8; 32]) -> Option<NonZeroScalar> {
    NonZeroScalar::from_repr((*private).into()).into()
}

/// The server's public key from a SubjectPublicKeyInfo, a SEC1 point or X || Y.
fn parse_public_key(key: &[u8]) -> Option<PublicKey> {
    if key.len() == 64 {
        return from_xy(&super::array(Some(key)));
    }
    if key.first() != Some(&0x30) {
        return from_sec1(key);
    }
    let mut outer = Reader(key);
    let spki = der_item(&mut outer, 0x30)?;
    let mut r = Reader(spki);
    let mut algorithm = Reader(der_item(&mut r, 0x30)?);
    let bits = der_item(&mut r, 0x03)?;
    if der_item(&mut algorithm, 0x06)? != OID_EC_PUBLIC_KEY
        || der_item(&mut algorithm, 0x06)? != OID_P256
        || !outer.0.is_empty()
    {
        return None;
    }
    from_sec1(bits.strip_prefix(&[0])?)
}

/// The private scalar from 32 raw bytes, an ECPrivateKey or a PKCS#8 PrivateKeyInfo.
fn parse_private_key(key: &[u8]) -> Option<[u8; 32]> {
    if key.len() == 32 {
        return key.try_into().ok();
    }
    let mut outer = Reader(key);
    let mut r = Reader(der_item(&mut outer, 0x30)?);
    match der_item(&mut r, 0x02)? {
        [1] => ec_private_key(r),
        // PrivateKeyInfo: version 0, the algorithm (ecPublicKey, prime256v1), the
        // ECPrivateKey in an OCTET STRING.
        [0] => {
            let mut algorithm = Reader(der_item(&mut r, 0x30)?);
            if der_item(&mut algorithm, 0x06)? != OID_EC_PUBLIC_KEY
                || der_item(&mut algorithm, 0x06)? != OID_P256
            {
                return None;
            }
            let mut inner = Reader(der_item(&mut r, 0x04)?);
            let mut r = Reader(der_item(&mut inner, 0x30)?);
            if der_item(&mut r, 0x02)? != [1] {
                return None;
            }
            ec_private_key(r)
        }
        _ => None,
    }
}

/// An ECPrivateKey past its version: privateKey, then [0] parameters (the curve) if there.
fn ec_private_key(mut r: Reader<'_>) -> Option<[u8; 32]> {
    let private = der_item(&mut r, 0x04)?;
    if let Some(&0xA0) = r.0.first() {
        let mut params = Reader(der_item(&mut r, 0xA0)?);
        if der_item(&mut params, 0x06)? != OID_P256 {
            return None;
        }
    }
    private.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::tests::{handshake, hello_body, hex};

    /// The order n of P-256's group, big-endian (SEC 2, section 2.4.2).
    const ORDER: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63,
        0x25, 0x51,
    ];
    use crate::dtls::{State, SERVER_HELLO, SERVER_HELLO_DONE};
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    const CLIENT_KEY: [u8; 32] = [0x21; 32];
    const SERVER_KEY: [u8; 32] = [0x42; 32];

    fn public_of(private: &[u8; 32]) -> [u8; 64] {
        let scalar = NonZeroScalar::from_repr((*private).into()).unwrap();
        xy(&PublicKey::from_secret_scalar(&scalar))
    }

    /// The points read and written here agree with sec1's encoding of p256's own keys, and
    /// points off the curve or with a coordinate of p or more are refused.
    #[test]
    fn points_match_sec1_and_bad_ones_are_refused() {
        let mut seed = [7u8; 32];
        for _ in 0..32 {
            seed = Sha256::digest(&seed);
            let Some(scalar) = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr(seed.into()))
            else {
                continue;
            };
            let key = PublicKey::from_secret_scalar(&scalar);
            let sec1 = key.to_encoded_point(false);
            let ours = xy(&key);
            assert_eq!(&ours[..], &sec1.as_bytes()[1..]);
            assert_eq!(from_xy(&ours), Some(key));
            assert_eq!(from_sec1(sec1.as_bytes()), Some(key));
            assert_eq!(from_sec1(key.to_encoded_point(true).as_bytes()), Some(key));
            let mut off = ours;
            off[63] ^= 1;
            assert_eq!(from_xy(&off), None, "a point off the curve");
            let mut truncated = sec1.as_bytes().to_vec();
            truncated.pop();
            assert_eq!(from_sec1(&truncated), None);
        }
        // p itself, as X and as Y: not a field element.
        let p: [u8; 32] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        let good = public_of(&SERVER_KEY);
        let mut bad_x = good;
        bad_x[..32].copy_from_slice(&p);
        let mut bad_y = good;
        bad_y[32..].copy_from_slice(&p);
        assert_eq!(from_xy(&bad_x), None);
        assert_eq!(from_xy(&bad_y), None);
        // A compressed point is the abscissa with the parity of its ordinate.
        assert_eq!(from_sec1(&[2; 33]), from_x(&[2; 32], false));
        assert_eq!(from_sec1(&[]), None);
        assert_eq!(from_sec1(&[5; 65]), None);
    }

    fn spki(xy: &[u8; 64]) -> std::vec::Vec<u8> {
        let mut s = SPKI_PREFIX.to_vec();
        s.extend_from_slice(xy);
        s
    }

    fn server_hello(extensions: &[u8]) -> std::vec::Vec<u8> {
        let body = hello_body(ECDHE_ECDSA_WITH_AES_128_CCM_8, extensions);
        handshake(SERVER_HELLO, 0, &body)
    }

    const BOTH_RPK: [u8; 10] = [0, 19, 0, 1, 2, 0, 20, 0, 1, 2];

    fn certificate(key: &[u8; 64]) -> std::vec::Vec<u8> {
        let mut b = vec![0, 0, SPKI_LEN as u8];
        b.extend_from_slice(&spki(key));
        handshake(CERTIFICATE, 1, &b)
    }

    /// A ServerKeyExchange signed by `signer` (DER signature over both randoms and the
    /// parameters).
    fn server_key_exchange(signer: &[u8; 32]) -> std::vec::Vec<u8> {
        let ephemeral = public_of(&[0x55; 32]);
        let mut params = vec![3, 0, 23, 65, 4];
        params.extend_from_slice(&ephemeral);
        let mut h = Sha256::new();
        h.update(&[1u8; 32]);
        h.update(&[9u8; 32]);
        h.update(&params);
        let hash: [u8; 32] = h.finalize();
        let rs = sign(signer, &hash).unwrap();
        let mut der = [0u8; 72];
        let n = der_signature(&rs, &mut der).unwrap();
        let mut b = params;
        b.extend_from_slice(&[4, 3, 0, n as u8]);
        b.extend_from_slice(&der[..n]);
        handshake(SERVER_KEY_EXCHANGE, 2, &b)
    }

    fn certificate_request() -> std::vec::Vec<u8> {
        handshake(CERTIFICATE_REQUEST, 3, &[1, 64, 0, 2, 4, 3, 0, 0])
    }

    fn session() -> Session {
        let server = public_of(&SERVER_KEY);
        let mut s = Session::new_rpk(&CLIENT_KEY, &spki(&server), [1; 32], [5; 32], 0).unwrap();
        let mut out = [0u8; 600];
        s.poll_transmit(0, &mut out).unwrap();
        s
    }

    /// A session past the server's hello.
    fn after_hello() -> Session {
        let mut s = session();
        s.handle_datagram(&mut server_hello(&BOTH_RPK));
        assert_eq!(s.state, State::ServerHello);
        s
    }

    fn alert_sent(s: &mut Session) -> Option<u8> {
        let mut out = [0u8; 64];
        let n = s.poll_transmit(99, &mut out)?;
        assert_eq!(&out[..3], &[21, 0xFE, 0xFD]);
        assert_eq!(n, 15);
        assert_eq!(out[13], 2, "fatal");
        assert!(s.poll_transmit(100, &mut out).is_none(), "once");
        Some(out[14])
    }

    #[test]
    fn the_client_hello_offers_the_rpk_suite_and_extensions() {
        let server = public_of(&SERVER_KEY);
        let mut s = Session::new_rpk(&CLIENT_KEY, &server, [1; 32], [5; 32], 0).unwrap();
        let mut out = [0u8; 600];
        let n = s.poll_transmit(0, &mut out).unwrap();
        let hello = &out[..n];
        assert!(
            hello.windows(4).any(|w| w == [0, 2, 0xC0, 0xAE]),
            "one suite"
        );
        // The raw-public-key extensions end the hello (after any other).
        let rpk_extensions = [
            &[0, 10, 0, 4, 0, 2, 0, 23][..],
            &[0, 11, 0, 2, 1, 0],
            &[0, 13, 0, 4, 0, 2, 4, 3],
            &[0, 19, 0, 2, 1, 2],
            &[0, 20, 0, 2, 1, 2],
        ]
        .concat();
        assert!(hello.ends_with(&rpk_extensions));
    }

    #[test]
    fn a_full_server_flight_gives_the_client_certificate_and_verify() {
        let mut s = after_hello();
        let server = public_of(&SERVER_KEY);
        for mut m in [
            certificate(&server),
            server_key_exchange(&SERVER_KEY),
            certificate_request(),
            handshake(SERVER_HELLO_DONE, 4, &[]),
        ] {
            s.handle_datagram(&mut m);
            assert_eq!(s.error(), None);
        }
        assert_eq!(s.state, State::Finishing);
        let mut out = [0u8; 1024];
        let n = s.poll_transmit(1, &mut out).unwrap();
        // Certificate, ClientKeyExchange, CertificateVerify, ChangeCipherSpec, Finished.
        let mut types = std::vec::Vec::new();
        let mut rest = &out[..n];
        while rest.len() >= 13 {
            let len = usize::from(u16::from_be_bytes([rest[11], rest[12]]));
            types.push((rest[0], rest[13]));
            rest = &rest[13 + len..];
        }
        assert_eq!(
            types.iter().map(|t| t.0).collect::<std::vec::Vec<_>>(),
            [22, 22, 22, 20, 22]
        );
        assert_eq!(types[0].1, CERTIFICATE);
        assert_eq!(types[1].1, CLIENT_KEY_EXCHANGE);
        assert_eq!(types[2].1, CERTIFICATE_VERIFY);
        let own = spki(&public_of(&CLIENT_KEY));
        assert!(out[..n].windows(own.len()).any(|w| w == own), "own SPKI");
        // A retransmission is the same flight (but for record sequence numbers).
        let again = s.poll_transmit(10_000, &mut [0u8; 1024]).unwrap();
        assert_eq!(again, n);
    }

    #[test]
    fn without_a_certificate_request_the_client_sends_no_key_of_its_own() {
        let mut s = after_hello();
        let server = public_of(&SERVER_KEY);
        let mut done = handshake(SERVER_HELLO_DONE, 3, &[]);
        for m in [
            &mut certificate(&server),
            &mut server_key_exchange(&SERVER_KEY),
            &mut done,
        ] {
            s.handle_datagram(m);
        }
        assert_eq!(s.state, State::Finishing);
        let mut out = [0u8; 1024];
        let n = s.poll_transmit(1, &mut out).unwrap();
        // ClientKeyExchange (its point: 65 bytes after its length), ChangeCipherSpec,
        // Finished (epoch 1).
        assert_eq!(out[0], 22);
        assert_eq!(out[13], CLIENT_KEY_EXCHANGE);
        assert_eq!(&out[13 + 12..13 + 14], &[65, 4]);
        let cke = 13 + 12 + 66;
        assert_eq!(out[cke], 20, "ChangeCipherSpec next");
        assert_eq!(out[cke + 14], 22);
        assert_eq!(&out[cke + 14 + 3..cke + 14 + 5], &[0, 1], "then epoch 1");
        assert_eq!(n, cke + 14 + 13 + 8 + 12 + 12 + 8);
        let own = spki(&public_of(&CLIENT_KEY));
        assert!(!out[..n].windows(own.len()).any(|w| w == own));
    }

    #[test]
    fn another_server_key_fails_with_a_bad_certificate_alert() {
        let mut s = after_hello();
        s.handle_datagram(&mut certificate(&public_of(&[0x43; 32])));
        assert_eq!(s.error(), Some(Error::BadServerKey));
        assert_eq!(s.poll_timeout(), Some(0), "the alert is due");
        assert_eq!(alert_sent(&mut s), Some(BAD_CERTIFICATE));
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_bad_signature_fails_with_a_decrypt_error_alert() {
        let server = public_of(&SERVER_KEY);
        // Signed by another key; then the right signature over changed parameters.
        let mut other = server_key_exchange(&[0x43; 32]);
        let mut changed = server_key_exchange(&SERVER_KEY);
        changed[13 + 12 + 10] ^= 1;
        for ske in [&mut other, &mut changed] {
            let mut s = after_hello();
            s.handle_datagram(&mut certificate(&server));
            s.handle_datagram(ske);
            assert_eq!(s.error(), Some(Error::BadSignature));
            assert_eq!(alert_sent(&mut s), Some(DECRYPT_ERROR));
        }
    }

    #[test]
    fn malformed_or_truncated_server_messages_never_panic() {
        let server = public_of(&SERVER_KEY);
        let messages = [
            certificate(&server),
            server_key_exchange(&SERVER_KEY),
            certificate_request(),
        ];
        for (i, m) in messages.iter().enumerate() {
            // Every shorter body (lengths kept consistent) is dropped; no single-byte change
            // panics.
            let body = &m[13 + 12..];
            for cut in 0..body.len() {
                let mut s = after_hello();
                for mut earlier in messages[..i].iter().cloned() {
                    s.handle_datagram(&mut earlier);
                }
                let mut short = handshake(m[13], i as u16 + 1, &body[..cut]);
                s.handle_datagram(&mut short);
                assert_eq!(s.error(), None, "message {i} cut at {cut}: dropped");
                assert_eq!(s.state, State::ServerHello);
            }
            for at in 0..body.len() {
                let mut s = after_hello();
                for mut earlier in messages[..i].iter().cloned() {
                    s.handle_datagram(&mut earlier);
                }
                let mut changed = body.to_vec();
                changed[at] ^= 0x80;
                s.handle_datagram(&mut handshake(m[13], i as u16 + 1, &changed));
                assert!(matches!(s.state, State::ServerHello | State::Failed(_)));
            }
        }
    }

    #[test]
    fn a_truncated_certificate_is_dropped_and_the_right_one_still_taken() {
        let server = public_of(&SERVER_KEY);
        let mut s = after_hello();
        let full = certificate(&server);
        let body = &full[13 + 12..];
        s.handle_datagram(&mut handshake(CERTIFICATE, 1, &body[..50]));
        let mut trailing = body.to_vec();
        trailing.push(0);
        s.handle_datagram(&mut handshake(CERTIFICATE, 1, &trailing));
        assert_eq!(s.error(), None, "dropped");
        s.handle_datagram(&mut certificate(&server));
        s.handle_datagram(&mut server_key_exchange(&SERVER_KEY));
        assert_eq!(s.error(), None);
        let r = rpk(&mut s).unwrap();
        assert!(r.certified && r.exchanged);
    }

    #[test]
    fn out_of_order_or_unexpected_messages() {
        let server = public_of(&SERVER_KEY);
        // A ServerKeyExchange before the Certificate (next in sequence): a protocol error.
        let mut s = after_hello();
        let mut ske = server_key_exchange(&SERVER_KEY);
        ske[13 + 5] = 1; // message_seq 1
        s.handle_datagram(&mut ske);
        assert_eq!(s.error(), Some(Error::Protocol));
        // One past the next: dropped, the server sends its flight again.
        let mut s = after_hello();
        s.handle_datagram(&mut server_key_exchange(&SERVER_KEY));
        assert_eq!(s.error(), None);
        // ServerHelloDone before the key exchange: a protocol error.
        let mut s = after_hello();
        s.handle_datagram(&mut certificate(&server));
        s.handle_datagram(&mut handshake(SERVER_HELLO_DONE, 2, &[]));
        assert_eq!(s.error(), Some(Error::Protocol));
        // A CertificateRequest without ecdsa_sign.
        let mut s = after_hello();
        s.handle_datagram(&mut certificate(&server));
        s.handle_datagram(&mut server_key_exchange(&SERVER_KEY));
        s.handle_datagram(&mut handshake(
            CERTIFICATE_REQUEST,
            3,
            &[1, 1, 0, 2, 4, 3, 0, 0],
        ));
        assert_eq!(s.error(), Some(Error::Protocol));
    }

    #[test]
    fn a_server_hello_must_choose_a_raw_public_key() {
        for (ext, error) in [
            (&[][..], Some(Error::Protocol)), // no extensions block at all
            (&[0, 20, 0, 1, 0][..], Some(Error::Protocol)),
            (&[0, 19, 0, 1, 2][..], Some(Error::Protocol)),
            (&[0, 20, 0, 1, 2][..], None),
            (&[0, 20, 0, 9, 2][..], None), // does not parse: dropped
        ] {
            let mut s = session();
            s.handle_datagram(&mut server_hello(ext));
            assert_eq!(s.error(), error, "{ext:?}");
        }
        // An extensions block that is there but empty.
        let mut s = session();
        let mut body = hello_body(ECDHE_ECDSA_WITH_AES_128_CCM_8, &[]);
        body.extend_from_slice(&[0, 0]);
        s.handle_datagram(&mut handshake(SERVER_HELLO, 0, &body));
        assert_eq!(s.error(), Some(Error::Protocol));
        // The PSK suite to an RPK session.
        let mut s = session();
        let mut psk = server_hello(&BOTH_RPK);
        psk[13 + 12 + 35] = 0xA8;
        s.handle_datagram(&mut psk);
        assert_eq!(s.error(), Some(Error::Protocol));
    }

    /// A P-256 key in the DER forms of the Security object (made with `openssl ecparam
    /// -name prime256v1 -genkey` and `openssl pkcs8 -topk8 -nocrypt`, scalar 0x01..0x20).
    fn sec1_der(scalar: &[u8; 32], public: &[u8; 64]) -> std::vec::Vec<u8> {
        let mut d = vec![0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20];
        d.extend_from_slice(scalar);
        d.extend_from_slice(&[0xA0, 0x0A, 0x06, 0x08]);
        d.extend_from_slice(OID_P256);
        d.extend_from_slice(&[0xA1, 0x44, 0x03, 0x42, 0x00, 0x04]);
        d.extend_from_slice(public);
        d
    }

    fn pkcs8_der(scalar: &[u8; 32], public: &[u8; 64]) -> std::vec::Vec<u8> {
        // PrivateKeyInfo wraps an ECPrivateKey without its parameters.
        let mut inner = vec![0x30, 0x6B, 0x02, 0x01, 0x01, 0x04, 0x20];
        inner.extend_from_slice(scalar);
        inner.extend_from_slice(&[0xA1, 0x44, 0x03, 0x42, 0x00, 0x04]);
        inner.extend_from_slice(public);
        let mut d = vec![0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07];
        d.extend_from_slice(OID_EC_PUBLIC_KEY);
        d.extend_from_slice(&[0x06, 0x08]);
        d.extend_from_slice(OID_P256);
        d.extend_from_slice(&[0x04, 0x6D]);
        d.extend_from_slice(&inner);
        d
    }

    #[test]
    fn keys_in_every_documented_form() {
        let scalar: [u8; 32] = core::array::from_fn(|i| i as u8 + 1);
        let public = public_of(&scalar);
        let server = public_of(&SERVER_KEY);
        let mut sec1 = vec![4];
        sec1.extend_from_slice(&server);
        let compressed = PublicKey::from_sec1_bytes(&sec1)
            .unwrap()
            .to_encoded_point(true);
        let sec1_der = sec1_der(&scalar, &public);
        let pkcs8 = pkcs8_der(&scalar, &public);
        assert_eq!(pkcs8.len(), 138, "openssl's PKCS#8 size");
        for private in [&scalar[..], &sec1_der, &pkcs8] {
            for server_key in [&server[..], &sec1, compressed.as_bytes(), &spki(&server)] {
                let mut keys = RpkKeys::new(private, server_key).unwrap();
                assert_eq!(keys.private, scalar);
                assert_eq!(keys.public, [0; 64], "derived when a handshake needs it");
                keys.derive_public();
                assert_eq!(keys.public, public);
                assert_eq!(keys.server, server);
            }
        }
        // Not keys: wrong lengths, the zero scalar, one past the order, another curve's
        // OID, a point off the curve, truncated DER.
        let mut bad_oid = spki(&server);
        bad_oid[22] ^= 1;
        let mut off_curve = server;
        off_curve[63] ^= 1;
        for (private, server_key) in [
            (&scalar[..31], &server[..]),
            (&[0; 32][..], &server[..]),
            (&ORDER[..], &server[..]),
            (&sec1_der[..sec1_der.len() - 1], &server[..]),
            (&pkcs8[..40], &server[..]),
            (&scalar[..], &server[..63]),
            (&scalar[..], &bad_oid[..]),
            (&scalar[..], &off_curve[..]),
            (&scalar[..], &[][..]),
        ] {
            assert!(RpkKeys::new(private, server_key).is_err());
        }
    }

    /// RFC 6979, A.2.5: P-256 with SHA-256, the messages "sample" and "test".
    #[test]
    fn nonce_and_signature_are_rfc_6979s() {
        let x = hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721");
        let private: [u8; 32] = x.try_into().unwrap();
        for (message, k, r, s) in [
            (
                "sample",
                "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
                "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
            ),
            (
                "test",
                "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
                "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
            ),
        ] {
            let hash = Sha256::digest(message.as_bytes());
            let z = <Scalar as Reduce<U256>>::reduce_bytes(&hash.into());
            let nonce = nonce(&private, &z).unwrap();
            assert_eq!((*nonce).to_bytes().to_vec(), hex(k), "k for {message}");
            let rs = sign(&private, &hash).unwrap();
            assert_eq!(rs.to_vec(), [hex(r), hex(s)].concat(), "r, s for {message}");
        }
    }

    /// The signing here gives p256's own deterministic ECDSA signature; the verification
    /// accepts it, the high-s twin of a signature too, and refuses any change of the
    /// signature, the hash or the key, and r or s of 0 or n and more.
    #[test]
    fn signatures_verify_like_p256s_ecdsa() {
        use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
        use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
        let der = |rs: &[u8; 64]| {
            let mut out = [0u8; 72];
            let n = der_signature(rs, &mut out).unwrap();
            out[..n].to_vec()
        };
        let mut seed = [3u8; 32];
        for round in 0..24 {
            seed = Sha256::digest(&seed);
            let hash: [u8; 32] = Sha256::digest(&[seed, [round; 32]].concat());
            let signer = SigningKey::from_bytes(&seed.into()).unwrap();
            let key = public_of(&seed);
            let theirs: Signature = signer.sign_prehash(&hash).unwrap();
            let rs: [u8; 64] = theirs.to_bytes().into();
            assert!(verify(&key, &hash, &der(&rs)), "p256's signature");
            let ours = sign(&seed, &hash).unwrap();
            assert_eq!(
                ours, rs,
                "RFC 6979 makes this module's signature p256's, byte for byte"
            );
            assert!(verify(&key, &hash, &der(&ours)), "this module's signature");
            let check = VerifyingKey::from_sec1_bytes(&[&[4][..], &key].concat()).unwrap();
            let ours_sig = Signature::from_slice(&ours).unwrap();
            assert!(check.verify_prehash(&hash, &ours_sig).is_ok());
            // (r, n - s) is as valid.
            let high = -*ours_sig.s();
            let mut twin = ours;
            twin[32..].copy_from_slice(&high.to_bytes());
            assert!(verify(&key, &hash, &der(&twin)), "the high-s twin");
            for i in [0, 31, 32, 63] {
                let mut bad = rs;
                bad[i] ^= 0x10;
                assert!(
                    !verify(&key, &hash, &der(&bad)),
                    "signature byte {i} changed"
                );
            }
            let mut other_hash = hash;
            other_hash[7] ^= 1;
            assert!(!verify(&key, &other_hash, &der(&rs)), "another hash");
            let other_key = public_of(&hash);
            assert!(!verify(&other_key, &hash, &der(&rs)), "another key");
            for (half, value) in [(0, [0u8; 32]), (1, [0u8; 32]), (0, ORDER), (1, ORDER)] {
                let mut bad = rs;
                bad[half * 32..half * 32 + 32].copy_from_slice(&value);
                assert!(!verify(&key, &hash, &der(&bad)), "r or s of 0 or n");
            }
        }
    }

    #[test]
    fn der_signatures_round_trip() {
        let mut cases = vec![[0u8; 64], [0xFF; 64]];
        let mut c = [0x7F; 64];
        c[0] = 0;
        c[32] = 0x80;
        cases.push(c);
        for rs in cases {
            let mut der = [0u8; 72];
            let n = der_signature(&rs, &mut der).unwrap();
            let (r, s) = parse_der_signature(&der[..n]).unwrap();
            assert_eq!((&r[..], &s[..]), (&rs[..32], &rs[32..]));
        }
        assert!(parse_der_signature(&[0x30, 0x06, 2, 1, 1, 2, 1]).is_none());
        assert!(parse_der_signature(&[0x30, 0x06, 2, 1, 1, 2, 1, 1, 0]).is_none());
        let mut long = vec![0x30, 0x25, 2, 33];
        long.extend_from_slice(&[1; 33]);
        long.extend_from_slice(&[2, 0]);
        assert!(
            parse_der_signature(&long).is_none(),
            "r wider than 32 bytes"
        );
    }

    #[test]
    fn psk_sessions_send_no_raw_public_key_extensions() {
        let mut s = Session::new(b"id", b"key", [1; 32], 0).unwrap();
        let mut out = [0u8; 600];
        let n = s.poll_transmit(0, &mut out).unwrap();
        let hello = &out[..n];
        assert!(
            hello.windows(4).any(|w| w == [0, 2, 0xC0, 0xA8]),
            "the PSK suite"
        );
        for ext in [
            &[0, 19, 0, 2][..],
            &[0, 20, 0, 2],
            &[0, 10, 0, 4],
            &[0, 13, 0, 4],
        ] {
            assert!(!hello.windows(4).any(|w| w == ext), "{ext:?}");
        }
    }
}
