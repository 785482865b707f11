"""Headless Debian chromium for the browser tests, and the chat widget as a buyer uses it.

``make test`` installs chromium and chromium-driver (apt-get) when they are missing.
Screenshots go to ``results/``.
"""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import tempfile
from typing import Iterator

import pytest

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")
RESULTS = PROJECT_ROOT / "results"
WAIT_S = 40


@contextlib.contextmanager
def chromium(window_size: str = "420,860") -> Iterator[object]:
    """A fresh headless chromium (own profile, no network but what the page asks for)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium / chromedriver missing: `make test` installs them "
                    "(apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="anxin-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={window_size}",
                 "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    RESULTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Chat:
    """The widget on the demo page, as a buyer uses it."""

    def __init__(self, driver, base_url: str):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, WAIT_S, poll_frequency=0.2)

    def open(self, buyer: str) -> None:
        self.driver.get(f"{self.base_url}/webhooks/widget/?buyer={buyer}")
        self.wait.until(lambda d: self.session_id())
        # Record whether the typing indicator ever shows (it may be brief).
        self.driver.execute_script(
            "window.__typingSeen = false;"
            "var t = document.querySelector('.anxin-typing');"
            "new MutationObserver(function () { if (!t.hidden) window.__typingSeen = true; })"
            ".observe(t, {attributes: true});"
        )

    def session_id(self) -> str:
        return self.driver.execute_script(
            "var r = document.querySelector('.anxin-root');"
            "return r && document.querySelector('.anxin-status').textContent === '在线'"
            " ? r.getAttribute('data-session-id') : null;"
        )

    def bot_texts(self) -> list:
        return [e.text for e in self.driver.find_elements("css selector", ".anxin-bot:not(.anxin-typing) .anxin-text")]

    def user_texts(self) -> list:
        return [e.text for e in self.driver.find_elements("css selector", ".anxin-user .anxin-text")]

    def say(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element("css selector", ".anxin-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def wait_for_bot(self, fragment: str, after: int = 0) -> str:
        """The first bot text (from index ``after``) containing ``fragment``."""
        def found(_):
            return next((t for t in self.bot_texts()[after:] if fragment in t), None)
        return self.wait.until(found, f"no bot message with {fragment!r}; got {self.bot_texts()[after:]}")

    def click_button(self, title_fragment: str) -> None:
        def button(_):
            for node in self.driver.find_elements("css selector", ".anxin-buttons button"):
                if title_fragment in node.text and node.is_enabled():
                    return node
            return None
        self.wait.until(button, f"no enabled button {title_fragment!r}").click()

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(RESULTS / f"widget-{name}.png"))
