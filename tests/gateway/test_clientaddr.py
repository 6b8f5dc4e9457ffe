"""Client addresses behind proxies, on their own: which header entry is believed, and what limits count."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.engine.config import load_settings
from nexus.engine.errors import ConfigError
from nexus.gateway import GatewaySettings
from nexus.gateway.clientaddr import ClientAddress, address_key, parse_networks
from nexus.gateway.connections import ConnectionLimits

PROXY = ClientAddress(parse_networks(["10.0.0.0/8", "fd00::/8"]))


@pytest.mark.parametrize(("peer", "values", "client"), [
    ("10.0.0.5", ["198.51.100.7"], "198.51.100.7"),                     # one proxy
    ("10.0.0.5", ["1.1.1.1, 2.2.2.2", "198.51.100.7"], "198.51.100.7"),  # forged left part, two header lines
    ("10.0.0.5", ["198.51.100.7, 10.9.9.9"], "198.51.100.7"),           # proxy chain: skip trusted hops
    ("10.0.0.5", ["10.1.1.1, 10.2.2.2"], "10.1.1.1"),                   # all trusted: the left-most
    ("10.0.0.5", [], "10.0.0.5"),                                       # proxy sent no header
    ("10.0.0.5", ["bogus"], "10.0.0.5"),                                # a broken proxy: not believed
    ("10.0.0.5", ["2001:db8::1"], "2001:db8::1"),
    ("::ffff:10.0.0.5", ["198.51.100.7"], "198.51.100.7"),              # IPv4-mapped peer
    ("203.0.113.9", ["198.51.100.7"], "203.0.113.9"),                   # untrusted peer: header ignored
    ("fd00::1", ["198.51.100.7"], "198.51.100.7"),
])
def test_the_right_most_untrusted_x_forwarded_for_entry_is_the_client(peer: str, values: list[str],
                                                                         client: str) -> None:
    assert PROXY.resolve(peer, values) == client


def test_forwarded_rfc7239_is_read_when_configured() -> None:
    forwarded = ClientAddress(parse_networks(["10.0.0.0/8"]), "forwarded")
    values = ['for=1.1.1.1;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.1', "For=198.51.100.7:80"]
    assert forwarded.resolve("10.0.0.5", values) == "198.51.100.7"
    assert forwarded.resolve("10.0.0.5", ['for="[2001:db8:cafe::17]:4711"']) == "2001:db8:cafe::17"
    assert forwarded.resolve("203.0.113.9", values) == "203.0.113.9"
    # The other header is not read: a proxy that sets Forwarded passes a client's X-Forwarded-For along.
    assert ClientAddress(parse_networks(["10.0.0.0/8"]), "forwarded").header == "forwarded"


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert ClientAddress().resolve("127.0.0.1", ["198.51.100.7"]) == "127.0.0.1"


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies.*'10.0.0.0/33'"):
        parse_networks(["10.0.0.0/33"])
    with pytest.raises(ConfigError, match="forwarded_header"):
        ClientAddress((), "x-real-ip")


def test_limits_count_ipv6_clients_by_their_64() -> None:
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("192.0.2.1") == "192.0.2.1"


def test_trusted_proxies_come_from_toml_lists_or_comma_separated_variables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUS_CONFIG_DIR", str(tmp_path))  # the user's file: a workspace's may not set them
    (tmp_path / "nexus.toml").write_text('[gateway]\ntrusted_proxies = ["10.0.0.5", "fd00::/8"]\n'
                                         'forwarded_header = "forwarded"\n')
    from_toml = load_settings(tmp_path, env={}).section("gateway", GatewaySettings)
    assert from_toml.trusted_proxies == ("10.0.0.5", "fd00::/8") and from_toml.forwarded_header == "forwarded"
    (tmp_path / "nexus.toml").unlink()
    env = {"NEXUS_GATEWAY_TRUSTED_PROXIES": "10.0.0.5, 192.0.2.0/24", "NEXUS_GATEWAY_METRICS_PUBLIC": "true"}
    from_env = load_settings(None, env=env).section("gateway", GatewaySettings)
    assert from_env.trusted_proxies == ("10.0.0.5", "192.0.2.0/24") and from_env.metrics_public is True
    resolver = ClientAddress.from_settings(from_env.trusted_proxies, from_env.forwarded_header)
    assert resolver.resolve("192.0.2.9", ["198.51.100.1"]) == "198.51.100.1"


def test_refusal_reasons_fit_in_a_close_frame() -> None:
    limits = ConnectionLimits(max_anonymous=1, max_anonymous_per_address=1, max_per_user=1)
    longest_key = address_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    assert limits.open_anonymous(longest_key) is None and limits.open_user("u" * 64) is None
    refusals = [limits.open_anonymous(longest_key), limits.open_anonymous("192.0.2.1"), limits.open_user("u" * 64)]
    for refusal in refusals:
        assert refusal is not None and refusal.code == 1013
        assert len(refusal.reason.encode()) <= 123  # RFC 6455: a control frame's payload is at most 125 bytes
    limits.release_anonymous(longest_key)
    limits.release_user("u" * 64)
    assert limits.anonymous == 0 and limits.user_count("u" * 64) == 0
