"""SSRF guard: every forbidden address refused, in every spelling; DNS names checked by what
they resolve to. DNS names use a monkeypatched resolver (no DNS here) - ``targets.resolve``
is the one seam; literal addresses go through the real parsing."""

from __future__ import annotations

import ipaddress

import pytest

from paysandbox import targets
from paysandbox.targets import UnsafeTarget, check_at_creation, target_for_delivery

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/hook",
    "http://localhost.localdomain.invalid.127.0.0.1.nip.io.example/hook#dns",  # resolved below
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://169.254.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://100.127.255.254/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",  # multicast
    "http://239.255.255.250/",
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://192.0.2.1/",  # documentation ranges are not public either
    "http://198.18.0.1/",  # benchmarking
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://127.1/",  # short form
    "http://017700000001/",  # octal, one number
    "http://0xa9.0xfe.0xa9.0xfe/",  # hex 169.254.169.254
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",  # link-local
    "http://[fc00::1]/",  # unique local
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",  # multicast
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",  # mapped, hex spelling
    "http://[::ffff:10.0.0.1]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[2001:db8::1]/",  # documentation
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo (client 127.0.0.1, obfuscated)
    "http://[2001::7f00:1]/",  # Teredo prefix, plain 127.0.0.1 in the low bits
    "http://[64:ff9b:1::a9fe:a9fe]/",  # NAT64 local-use prefix of 169.254.169.254
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated (RFC 2765) 127.0.0.1
    "http://[0:0:0:0:0:ffff:7f00:1]/",  # mapped, written out in full
    "http://[::ffff:127.0.0.1]:80/",  # mapped, with a port
    "http://[fe80::1%25eth0]/",  # link-local with a zone id
    "http://0/",  # 0.0.0.0 in one number
    "https://private.merchant.test/hook",  # resolves to 10.1.2.3
    "https://mixed.merchant.test/hook",  # one public, one private address: refused
    "https://metadata.merchant.test/hook",  # resolves to ::ffff:169.254.169.254
]

FAKE_DNS = {
    "private.merchant.test": ["10.1.2.3"],
    "mixed.merchant.test": ["93.184.216.34", "192.168.0.7"],
    "metadata.merchant.test": ["::ffff:169.254.169.254"],
    "public.merchant.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "localhost.localdomain.invalid.127.0.0.1.nip.io.example": ["127.0.0.1"],
}


@pytest.fixture
def guarded(settings_env, monkeypatch):
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")

    def fake_resolve(host, port):
        if host not in FAKE_DNS:
            raise OSError("Name or service not known")
        return [ipaddress.ip_address(a) for a in FAKE_DNS[host]]

    monkeypatch.setattr(targets, "resolve", fake_resolve)


@pytest.mark.parametrize("url", REFUSED)
def test_refused_at_creation_and_delivery(guarded, url):
    with pytest.raises(UnsafeTarget):
        check_at_creation(url)
    with pytest.raises(UnsafeTarget):
        target_for_delivery(url)


@pytest.mark.parametrize(
    "url", ["https://93.184.216.34/hook", "http://[2606:4700::1111]/x", "https://public.merchant.test:8443/h?x=1"]
)
def test_public_targets_pass(guarded, url):
    assert check_at_creation(url) == url
    target = target_for_delivery(url)
    assert all(not targets.is_forbidden(ipaddress.ip_address(a)) for a in target.addresses)


def test_delivery_connects_to_every_checked_address_only(guarded):
    target = target_for_delivery("https://public.merchant.test:8443/h?x=1")
    assert target.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    assert (target.host, target.port, target.path) == ("public.merchant.test", 8443, "/h?x=1")


def test_unresolvable_name_is_accepted_at_creation_but_not_delivered(guarded):
    url = "https://not-yet.merchant.test/hook"
    assert check_at_creation(url) == url
    with pytest.raises(targets.UnresolvableTarget):
        target_for_delivery(url)


def test_allow_private_lifts_the_guard(settings_env):
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "true")
    assert check_at_creation("http://127.0.0.1:9000/hook")
    assert target_for_delivery("http://127.0.0.1:9000/hook").addresses == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("10.1", "10.0.0.1")],
)
def test_ipv4_spellings_are_read_like_the_resolver(spelling, address):
    assert str(targets.literal_address(spelling)) == address


def test_names_are_not_literals():
    assert targets.literal_address("example.com") is None
    assert targets.literal_address("1e100.net") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",  # fullwidth digits: IDNA maps them to 127.0.0.1
        "http://127\u30020\u30020\u30021/",  # ideographic full stops
        "http://\u2460\u2461\u2466.0.0.1/",  # circled digits
        "http://\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14/",  # metadata
    ],
    ids=["fullwidth", "ideographic dots", "circled", "fullwidth metadata"],
)
def test_unicode_digit_spellings_are_refused_with_the_real_resolver(settings_env, url):
    """No fake DNS here: the host goes through the resolver the sender itself uses, which
    normalises these spellings to a forbidden IPv4 address (no network involved)."""
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    with pytest.raises(UnsafeTarget):
        check_at_creation(url)
    with pytest.raises(UnsafeTarget):
        target_for_delivery(url)


def test_digits_that_normalise_to_no_address_never_reach_a_forbidden_one(settings_env):
    # Arabic-Indic digits are not compatibility digits: the name is punycoded and does not
    # resolve, so it is accepted at creation and refused at every delivery.
    settings_env.setenv("ALLOW_PRIVATE_WEBHOOK_TARGETS", "false")
    url = "http://\u0661\u0662\u0667.\u0660.\u0660.\u0661/"
    with pytest.raises((UnsafeTarget, targets.UnresolvableTarget)):
        target_for_delivery(url)
