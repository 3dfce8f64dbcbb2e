"""Starting a studio: a fresh token per start in the URL, the loopback by default, a warning elsewhere."""

from __future__ import annotations

from storyreel.studio.server import is_loopback, make_server, new_token


def test_each_start_has_its_own_long_random_token():
    tokens = {new_token() for _ in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 40 for t in tokens)


def test_the_default_is_the_loopback_with_the_token_in_the_url(board):
    served = make_server(board, port=0)
    try:
        assert served.url.startswith("http://127.0.0.1:") and "?token=" in served.url
        assert served.server.config.host == "127.0.0.1" and served.warning is None
    finally:
        served.studio.close()
    again = make_server(board, port=0)
    try:
        assert again.url.split("token=")[1] != served.url.split("token=")[1]
    finally:
        again.studio.close()


def test_another_host_warns(board):
    served = make_server(board, host="0.0.0.0", port=0)
    try:
        assert served.warning and "not only this machine" in served.warning
    finally:
        served.studio.close()
    assert is_loopback("localhost") and is_loopback("::1") and not is_loopback("192.168.1.2")
