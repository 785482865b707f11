"""Ctrl-C on the launcher stops both servers. Runs after every other test module.

It stops the session's shared bot (tests/conftest.py ``running_bot``), so it lives
in a module whose name sorts last: pytest runs test files in name order, and the
other modules that talk to the bot (test_server_e2e.py, test_widget_browser.py, …)
must come before it. It was the last test of test_server_e2e.py until the widget's
browser tests, which sort after that file, needed the bot too.
"""

from __future__ import annotations

import signal
import socket


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_ctrl_c_stops_both_servers(running_bot) -> None:
    """The servers are gone afterwards."""
    assert all(port_is_open(port) for port in running_bot.ports)
    running_bot.process.send_signal(signal.SIGINT)
    assert running_bot.process.wait(timeout=90) == 0
    assert not any(port_is_open(port) for port in running_bot.ports), "a server outlived the launcher"
    assert "Stopping" in running_bot.log.read_text()
