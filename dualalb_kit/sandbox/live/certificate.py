"""The certificate the live sandbox's HTTPS and TLS listeners present, made once per sandbox run.

A certificate authority of its own (kept in memory only) signs one server certificate for
``localhost``, ``127.0.0.1``, ``::1`` and every load balancer's DNS name in the sandbox's region
(``*.<region>.elb.amazonaws.com``, so load balancers deployed later are covered too). Both are
written into the data plane's private folder: ``ca.pem`` (the authority's certificate: what a
client verifies against, e.g. ``requests.get(url, verify=ca_file)``) and ``listeners.pem`` (the
server certificate, the authority's certificate and the server key: HAProxy's ``ssl crt``). The
folder is made mode 0700 and the files 0600; keys are ECDSA P-256, valid for
:data:`VALID_DAYS` days.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 30
"""How long the certificates are valid (a sandbox run is much shorter)."""
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class SandboxCertificate:
    """Where a sandbox run's certificate files are."""

    ca_file: Path
    """The authority's certificate (PEM): trust this to verify the sandbox's HTTPS listeners."""
    server_pem: Path
    """Server certificate, authority certificate and server key (PEM), as HAProxy's ``crt`` takes them."""


def balancer_dns_names(region: str) -> tuple[str, ...]:
    """The DNS names the server certificate covers besides loopback: every load balancer's in ``region``."""
    return (f"*.{region}.elb.amazonaws.com",)


def issue_certificate(folder: Path, region: str) -> SandboxCertificate:
    """Make the authority and the server certificate and write them into ``folder`` (created
    0700 if missing; the files 0600)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    now = dt.datetime.now(dt.UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dualalb-kit sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "dualalb-kit sandbox CA"),
        ]
    )
    authority = (
        _builder(authority_name, authority_name, authority_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(certificate_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(authority_key.public_key()), critical=False)
        .sign(authority_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [*LOOPBACK_NAMES, *balancer_dns_names(region)]
    server = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
            authority_name,
            server_key.public_key(),
            now,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(certificate_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name) for name in names]
                + [x509.IPAddress(ipaddress.ip_address(address)) for address in LOOPBACK_ADDRESSES]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()), critical=False
        )
        .sign(authority_key, hashes.SHA256())
    )
    authority_pem = authority.public_bytes(serialization.Encoding.PEM)
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    certificate = SandboxCertificate(folder / "ca.pem", folder / "listeners.pem")
    _write_private(certificate.ca_file, authority_pem)
    _write_private(
        certificate.server_pem, server.public_bytes(serialization.Encoding.PEM) + authority_pem + key_pem
    )
    return certificate


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
    )


def _key_usage(*, certificate_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not certificate_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_sign,
        crl_sign=certificate_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file only its owner can read (0600 from its creation)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
