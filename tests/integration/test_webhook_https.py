"""HTTPS delivery to the checked address: the sender connects to the IP the SSRF guard
resolved, yet presents the URL's host name (SNI) and verifies the certificate against it.

A real TLS receiver on 127.0.0.1 with a throwaway certificate for ``hooks.merchant.test``,
trusted through SSL_CERT_FILE; the DNS name goes through a monkeypatched
``paysandbox.targets.resolve`` (no DNS here)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.receiver import Receiver
from paysandbox import payments, targets, webhook_transport
from tests.integration.conftest import Pipeline, assert_signed
from tests.support import OPERATOR, v2_body

HOST = "hooks.merchant.test"


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the sender's default trust store
    dns = {HOST: "127.0.0.1", "other.merchant.test": "127.0.0.1"}
    monkeypatch.setattr(targets, "resolve", lambda host, port: [ipaddress.ip_address(dns[host])])
    server = Receiver(tls=(str(cert_file), str(key_file)))
    yield server
    server.close()


def test_https_delivery_uses_sni_and_verifies_the_name(pipeline: Pipeline, tls_receiver: Receiver, merchant, operator):
    port = tls_receiver.server.server_address[1]
    merchant.call("POST", "/api/v2/payments", v2_body(callback_url=f"https://{HOST}:{port}/hook"))
    operator.call("POST", "/api/v2/confirm-payment", {"payment_id": "pay_tx-1001"}, headers=OPERATOR)
    pipeline.run()
    (request,) = tls_receiver.requests
    assert request.headers["Host"] == f"{HOST}:{port}"
    assert_signed(request)
    assert payments.get_payment("pay_tx-1001").webhook_status == "delivered"


def test_https_certificate_for_another_name_is_a_failed_attempt(tls_receiver: Receiver, settings_env):
    port = tls_receiver.server.server_address[1]
    response = webhook_transport.send(f"https://other.merchant.test:{port}/hook", b"{}", {}, 2)
    assert response.status is None and response.error
    assert "SSLCertVerificationError" in response.error and "other.merchant.test" in response.error
    assert tls_receiver.requests == []
