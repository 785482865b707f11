"""The shop chat widget, in a real browser (headless Debian chromium) against the running bot.

A buyer opens the demo page, completes a return by clicking a reason button,
reloads and finds the conversation still there (same socket.io session), sends a
photo in a quality complaint and gets the approval, and sees the "人工客服已接手"
banner after 转人工. Screenshots go to results/widget-*.png. The upload endpoint
is also tested over plain HTTP: wrong type, too big, no file → 4xx JSON, never 500.

``make test`` installs chromium and chromium-driver (apt-get) when they are missing.
"""

from __future__ import annotations

import pathlib
import struct
import tempfile
import zlib

import pytest
import requests

from conftest import PROJECT_ROOT
from utils.browser import Chat, chromium



def png(width: int = 8, height: int = 8, rgb=(200, 40, 40)) -> bytes:
    """A small valid PNG, made here (no image library needed)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# ------------------------------------------------------------------ upload over HTTP


def upload(bot, name: str, body: bytes, content_type: str) -> requests.Response:
    return requests.post(
        f"{bot.base_url}/webhooks/widget/upload", files={"file": (name, body, content_type)}, timeout=30
    )


def test_a_png_upload_is_stored_under_a_random_name_and_served(running_bot) -> None:
    image = png()
    first = upload(running_bot, "photo.png", image, "image/png")
    second = upload(running_bot, "photo.png", image, "image/png")
    assert first.status_code == 201, first.text
    url = first.json()["url"]
    assert url.startswith(running_bot.base_url + "/webhooks/widget/uploads/") and url.endswith(".png")
    assert url != second.json()["url"]
    assert "photo" not in url
    served = requests.get(url, timeout=10)
    assert served.status_code == 200 and served.content == image
    assert served.headers["Content-Type"].startswith("image/png")
    stored = PROJECT_ROOT / "var" / "uploads" / url.rsplit("/", 1)[1]
    assert stored.read_bytes() == image


@pytest.mark.parametrize(
    "name, body, content_type, status",
    [
        ("notes.txt", b"just some text", "text/plain", 415),
        ("fake.png", b"<html>not a png</html>", "image/png", 415),  # the bytes decide, not the name
        ("anim.gif", b"GIF89a" + b"\x00" * 20, "image/gif", 415),
        ("empty.png", b"", "image/png", 400),
        ("huge.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (8 * 1024 * 1024), "image/png", 413),
    ],
)
def test_bad_uploads_get_a_4xx_json_error(running_bot, name, body, content_type, status) -> None:
    response = upload(running_bot, name, body, content_type)
    assert response.status_code == status, response.text[:300]
    assert response.json()["error"] and response.json()["message"]


def test_requests_without_a_file_never_give_a_server_error(running_bot) -> None:
    url = f"{running_bot.base_url}/webhooks/widget/upload"
    for kwargs in ({}, {"data": b"garbage"}, {"json": {"file": "x"}},
                   {"data": b"--zz\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=zz"}},
                   {"files": {"other": ("a.png", png(), "image/png")}}):
        response = requests.post(url, timeout=30, **kwargs)
        assert 400 <= response.status_code < 500, (kwargs, response.status_code, response.text[:200])


def test_stored_files_cannot_be_used_to_read_other_paths(running_bot) -> None:
    for name in ("..%2F..%2Fcredentials.yml", "credentials.yml", "0" * 32 + ".png"):
        response = requests.get(f"{running_bot.base_url}/webhooks/widget/uploads/{name}", timeout=10)
        assert response.status_code == 404


def test_the_page_script_and_socketio_client_are_served(running_bot) -> None:
    base = f"{running_bot.base_url}/webhooks/widget"
    page = requests.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "安心售后助手" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # nothing from a CDN
    script = requests.get(f"{base}/anxin-widget.js", timeout=10)
    assert script.status_code == 200 and "AnxinWidget" in script.text
    client = requests.get(f"{base}/socket.io.min.js", timeout=10)
    assert client.status_code == 200 and "Socket.IO v4" in client.text
    buyers = requests.get(f"{base}/demo-buyers.json", timeout=10).json()
    assert {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"}.items() <= next(
        b for b in buyers if b["buyer_id"] == "buyer_tm_chen").items()


# ------------------------------------------------------------------ in the browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def tracker(bot, conversation_id: str) -> dict:
    response = requests.get(
        f"{bot.base_url}/conversations/{conversation_id}/tracker", params={"token": bot.token}, timeout=30
    )
    assert response.status_code == 200, response.text[:300]
    return response.json()


def user_events(bot, conversation_id: str) -> list:
    return [e for e in tracker(bot, conversation_id)["events"] if e["event"] == "user"]


def test_a_return_by_button_survives_a_reload(running_bot, browser) -> None:
    chat = Chat(browser, running_bot.base_url)
    chat.open("buyer_tm_chen")
    session = chat.session_id()
    chat.say("我想退货")
    chat.wait_for_bot("3398127465503318820")
    chat.wait_for_bot("请问是什么原因")
    assert browser.execute_script("return window.__typingSeen"), "no typing indicator while waiting"
    chat.click_button("不想要了")
    approval = chat.wait_for_bot("同意退货")
    assert "3398127465503318820" in approval
    assert chat.user_texts() == ["我想退货", "不想要了 / 尺码不合适"]
    chat.shot("return")

    # Every message carried the buyer's identity; the button sent its payload.
    sent = user_events(running_bot, session)
    assert [e["text"] for e in sent] == ["我想退货", '/inform_order{"reason": "no_reason"}']
    for event in sent:
        assert {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"}.items() \
            <= event["metadata"].items()
        assert event["input_channel"] == "socketio"

    before = chat.bot_texts()
    browser.refresh()
    chat.wait.until(lambda d: chat.session_id())
    assert chat.session_id() == session
    assert chat.bot_texts() == before and chat.user_texts() == ["我想退货", "不想要了 / 尺码不合适"]
    # Used buttons stay used after the reload.
    assert not any(b.is_enabled() for b in browser.find_elements("css selector", ".anxin-buttons button"))
    # The same conversation goes on after the reload.
    chat.say("谢谢")
    chat.wait.until(lambda d: len(chat.bot_texts()) > len(before))
    assert [e["text"] for e in user_events(running_bot, session)][-1] == "谢谢"
    chat.shot("after-reload")

    # A dropped connection: socket.io reconnects, asks for the same session, goes on.
    browser.execute_script("window.AnxinWidget.instance.socket.io.engine.close()")
    chat.wait.until(lambda d: chat.session_id() == session)
    answered = len(chat.bot_texts())
    chat.say("你好")
    chat.wait.until(lambda d: len(chat.bot_texts()) > answered)
    assert [e["text"] for e in user_events(running_bot, session)][-1] == "你好"


def test_a_photo_in_a_quality_complaint_then_a_person_takes_over(running_bot, browser) -> None:
    chat = Chat(browser, running_bot.base_url)
    chat.open("buyer_tg_lin")
    session = chat.session_id()
    chat.say("行李箱的轮子坏了一个")
    picked = chat.wait_for_bot("4012873365920117372")  # her only suitcase, picked by its name
    assert "行李箱" in picked
    chat.wait_for_bot("照片")

    photo = pathlib.Path(tempfile.mkdtemp(prefix="anxin-photo-")) / "wheel.png"
    photo.write_bytes(png(32, 24))
    count = len(chat.bot_texts())
    browser.find_element("css selector", ".anxin-file").send_keys(str(photo))
    chat.wait.until(lambda d: d.find_elements("css selector", ".anxin-user img"))
    approval = chat.wait_for_bot("照片/视频我们收到了", after=count)
    assert "质量问题" in approval
    image = browser.find_element("css selector", ".anxin-user img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 32  # loaded from the bot
    chat.shot("photo")

    photo_event = user_events(running_bot, session)[-1]
    assert photo_event["text"] == "[图片]"
    (attachment,) = photo_event["metadata"]["attachments"]
    assert attachment["type"] == "image"
    assert attachment["url"].startswith(running_bot.base_url + "/webhooks/widget/uploads/")
    assert requests.get(attachment["url"], timeout=10).content == photo.read_bytes()

    banner = browser.find_element("css selector", ".anxin-banner")
    assert not banner.is_displayed()
    chat.say("转人工")
    chat.wait_for_bot("已为您转接人工客服")
    chat.wait.until(lambda d: banner.is_displayed())
    assert "人工客服已接手" in banner.text
    chat.shot("handoff")

    browser.refresh()
    chat.wait.until(lambda d: chat.session_id())
    assert browser.find_element("css selector", ".anxin-banner").is_displayed()
    assert any("照片/视频我们收到了" in t for t in chat.bot_texts())


def test_a_wrong_file_in_the_browser_shows_an_error(running_bot, browser) -> None:
    chat = Chat(browser, running_bot.base_url)
    chat.open("buyer_tm_liu")
    text = pathlib.Path(tempfile.mkdtemp(prefix="anxin-text-")) / "notes.txt"
    text.write_text("not an image", encoding="utf-8")
    browser.find_element("css selector", ".anxin-file").send_keys(str(text))
    chat.wait.until(lambda d: d.find_elements("css selector", ".anxin-note.anxin-error"))
    assert "JPEG" in browser.find_element("css selector", ".anxin-note.anxin-error").text


@pytest.fixture(scope="module")
def shop_site(running_bot, tmp_path_factory):
    """A shop's page on another origin with the one embed tag, served by http.server."""
    import functools
    import http.server
    import threading

    from conftest import free_port

    root = tmp_path_factory.mktemp("shop")
    (root / "index.html").write_text(
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>示例店铺</title></head>"
        "<body><h1>示例店铺</h1>"
        f'<script src="{running_bot.base_url}/webhooks/widget/anxin-widget.js" '
        'data-buyer-id="buyer_jd_zhao" data-shop-id="demo_jd_international" '
        'data-platform="jd_international" data-open="true"></script></body></html>',
        encoding="utf-8",
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def test_the_embed_script_works_on_a_shop_page_of_another_origin(running_bot, browser, shop_site) -> None:
    browser.get(shop_site)
    chat = Chat(browser, running_bot.base_url)
    chat.wait.until(lambda d: chat.session_id())
    assert browser.find_element("css selector", ".anxin-launcher").is_displayed()
    session = chat.session_id()
    chat.say("你好")
    chat.wait.until(lambda d: chat.bot_texts())
    (greeting,) = user_events(running_bot, session)
    assert {"buyer_id": "buyer_jd_zhao", "shop_id": "demo_jd_international",
            "platform": "jd_international"}.items() <= greeting["metadata"].items()
    # Uploading from the shop's origin works too (CORS from `rasa run --cors`).
    photo = pathlib.Path(tempfile.mkdtemp(prefix="anxin-photo-")) / "box.png"
    photo.write_bytes(png(16, 16, (40, 40, 200)))
    browser.find_element("css selector", ".anxin-file").send_keys(str(photo))
    chat.wait.until(lambda d: d.find_elements("css selector", ".anxin-user img"))
    chat.wait.until(lambda d: user_events(running_bot, session)[-1]["text"] == "[图片]")
    chat.shot("embed")
