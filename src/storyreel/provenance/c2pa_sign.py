"""C2PA Content Credentials: sign a finished MP4 with a manifest declaring it AI-generated, and read it back.

Signing needs the user's own certificate chain (PEM, end-entity first) and
private key, given as `--c2pa-cert/--c2pa-key` or the environment variables
STORYREEL_C2PA_CERT / STORYREEL_C2PA_KEY. storyreel ships no key.

c2pa (the Rust SDK under c2pa-python) refuses a self-signed end-entity
certificate ("the certificate is invalid"), so `make_test_credentials` writes
a throw-away test CA plus a signing certificate it issued: everything works
offline, and readers report the signature as valid but the signer as
untrusted unless the test CA is passed as a trust anchor (`verify --trust`).

The manifest has a `c2pa.actions` assertion with one `c2pa.created` action
whose digitalSourceType is IPTC's trainedAlgorithmicMedia, and a storyreel
assertion (`org.storyreel.provenance`) with the storyboard hash, models and
watermark payload.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import StoryreelError
from ..fsio import atomic_path, atomic_write

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
STORYREEL_ASSERTION = "org.storyreel.provenance"
ENV_CERT, ENV_KEY = "STORYREEL_C2PA_CERT", "STORYREEL_C2PA_KEY"


@dataclass(frozen=True)
class Credentials:
    """A signing certificate chain and its private key (PEM files)."""

    cert: Path
    key: Path


def resolve_credentials(cert: str | os.PathLike | None = None, key: str | os.PathLike | None = None) -> Credentials | None:
    """Credentials from the arguments, else the environment; None when neither names any."""
    cert = cert or os.environ.get(ENV_CERT) or None
    key = key or os.environ.get(ENV_KEY) or None
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "--c2pa-cert" if cert is None else "--c2pa-key"
        raise StoryreelError(f"C2PA signing needs both a certificate and a key; {missing} (or "
                             f"{ENV_CERT if cert is None else ENV_KEY}) is missing", field=missing)
    creds = Credentials(Path(cert), Path(key))
    for path, flag in ((creds.cert, "--c2pa-cert"), (creds.key, "--c2pa-key")):
        if not path.is_file():
            raise StoryreelError("file not found", file=str(path), field=flag)
    return creds


class C2paMissing(StoryreelError):
    """The c2pa package (the storyreel[c2pa] extra) is not installed."""

    def __init__(self) -> None:
        super().__init__("C2PA needs the c2pa package: pip install 'storyreel[c2pa]'")


def _c2pa():
    """The c2pa module; imported on first use because it is an optional extra (storyreel[c2pa])."""
    try:
        import c2pa  # deferred: an optional extra
    except ImportError:
        raise C2paMissing() from None
    return c2pa


def _algorithm(key_pem: bytes, key_path: Path):
    """The C2PA signing algorithm for a PEM private key (EC P-256/384/521, Ed25519 or RSA)."""
    c2pa = _c2pa()
    try:  # `cryptography` comes with the c2pa extra; without it, assume the common case
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # deferred: the c2pa extra
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        return c2pa.C2paSigningAlg.ES256
    try:
        key = load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as e:
        raise StoryreelError(f"not a usable PEM private key ({e})", file=str(key_path), field="--c2pa-key") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {256: "ES256", 384: "ES384", 521: "ES512"}.get(key.curve.key_size)
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        alg = "ED25519"
    elif isinstance(key, rsa.RSAPrivateKey):
        alg = "PS256"
    else:
        alg = None
    if alg is None:
        raise StoryreelError(f"unsupported key type {type(key).__name__} for C2PA (use EC P-256, Ed25519 or RSA)",
                             file=str(key_path), field="--c2pa-key")
    return getattr(c2pa.C2paSigningAlg, alg)


def load_signer(creds: Credentials):
    """A c2pa Signer for the credentials, or StoryreelError saying what is wrong with them (call before rendering)."""
    c2pa = _c2pa()

    cert_pem, key_pem = creds.cert.read_bytes(), creds.key.read_bytes()
    if b"BEGIN CERTIFICATE" not in cert_pem:
        raise StoryreelError("not a PEM certificate chain", file=str(creds.cert), field="--c2pa-cert")
    info = c2pa.C2paSignerInfo(_algorithm(key_pem, creds.key), cert_pem, key_pem, None)
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as e:
        raise StoryreelError(f"C2PA cannot sign with this certificate and key ({e})", file=str(creds.cert),
                             field="--c2pa-cert") from None


def manifest_definition(title: str, info: dict) -> dict:
    """The C2PA manifest storyreel signs: created by a trained model, plus storyreel's own assertion."""
    models = info.get("models", [])
    return {
        "claim_generator_info": [{"name": "storyreel", "version": __version__}],
        "title": title,
        "format": "video/mp4",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": {"name": "storyreel", "version": __version__},
                            "description": f"AI-generated music video (models: {', '.join(models) or 'unknown'})",
                        }
                    ]
                },
            },
            {"label": STORYREEL_ASSERTION, "data": info},
        ],
    }


def sign_mp4(path: str | os.PathLike, creds: Credentials, title: str, info: dict, signer=None) -> Path:
    """Embed a signed C2PA manifest in the MP4 at `path`, in place (a temporary file renamed over it)."""
    c2pa = _c2pa()
    path = Path(path)
    signer = signer if signer is not None else load_signer(creds)
    try:
        builder = c2pa.Builder(manifest_definition(title, info))
        with atomic_path(path) as tmp, open(path, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, "video/mp4", src, dst)
    except c2pa.C2paError as e:
        raise StoryreelError(f"C2PA signing failed ({e})", file=str(path)) from None
    return path


def read_c2pa(path: str | os.PathLike, trust_anchors: str | os.PathLike | None = None) -> dict | None:
    """A summary of the video's C2PA manifest, or None when it has none.

    Keys: validation_state (Valid / Trusted / Invalid), claim_generator,
    signer, issuer, ai_generated, digital_source_type, actions, storyreel
    (storyreel's own assertion), status (validation codes that are not
    successes). trust_anchors: a PEM file of CAs to trust (else the signer is
    reported untrusted, the signature still checked). C2paMissing without the c2pa extra.
    """
    c2pa = _c2pa()

    ctx = None
    if trust_anchors is not None:
        settings = c2pa.Settings.from_dict({"trust": {"trust_anchors": Path(trust_anchors).read_text()},
                                            "verify": {"verify_trust": True}})
        ctx = c2pa.Context(settings=settings)
    try:
        reader = c2pa.Reader(str(path), context=ctx) if ctx is not None else c2pa.Reader(str(path))
    except c2pa.C2paError as e:
        if "ManifestNotFound" in type(e).__name__ or "JUMBF" in str(e) or "not found" in str(e).lower():
            return None
        raise StoryreelError(f"cannot read the C2PA manifest ({e})", file=str(path)) from None
    with reader:
        data = json.loads(reader.json())
        state = reader.get_validation_state()
    active = data.get("manifests", {}).get(data.get("active_manifest", ""), {})
    actions, storyreel = [], None
    for a in active.get("assertions", []):
        if a.get("label", "").startswith("c2pa.actions"):
            actions += a.get("data", {}).get("actions", [])
        elif a.get("label") == STORYREEL_ASSERTION:
            storyreel = a.get("data")
    sources = [a.get("digitalSourceType", "") for a in actions if a.get("digitalSourceType")]
    sig = active.get("signature_info", {})
    gen = active.get("claim_generator_info") or [{}]
    return {
        "validation_state": state,
        "claim_generator": " ".join(str(gen[0].get(k, "")) for k in ("name", "version")).strip(),
        "signer": sig.get("common_name"),
        "issuer": sig.get("issuer"),
        "ai_generated": any(s.endswith(("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"))
                            for s in sources),
        "digital_source_type": sources[0] if sources else None,
        "actions": [a.get("action") for a in actions],
        "storyreel": storyreel,
        "status": [s.get("code") for s in data.get("validation_status", []) or []],
    }


def make_test_credentials(folder: str | os.PathLike, *, days: int = 365) -> tuple[Credentials, Path]:
    """Write a throw-away test CA and an ES256 signing certificate it issued; returns (credentials, CA PEM).

    For tests and trying C2PA out; never for publishing. Needs `cryptography`.
    """
    from cryptography import x509  # deferred: the c2pa extra
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "storyreel test (not trusted)")])

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=not sign,
                             crl_sign=not sign, encipher_only=False, decipher_only=False)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    period = dict(not_valid_before=now - datetime.timedelta(days=1), not_valid_after=now + datetime.timedelta(days=days))
    ca = (x509.CertificateBuilder(**period).subject_name(name("storyreel test CA")).issuer_name(name("storyreel test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder(**period).subject_name(name("storyreel test signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    cert_path, key_path, ca_path = folder / "c2pa-test-chain.pem", folder / "c2pa-test-key.pem", folder / "c2pa-test-ca.pem"
    atomic_write(cert_path, leaf.public_bytes(pem) + ca.public_bytes(pem))
    with atomic_path(key_path) as tmp:  # private from the start: made 0600 before it holds the key
        os.chmod(tmp, 0o600)
        tmp.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    atomic_write(ca_path, ca.public_bytes(pem))
    return Credentials(cert_path, key_path), ca_path
