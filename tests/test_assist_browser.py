"""The agent panel in a real browser, next to a buyer's chat widget in another one.

A buyer claims a counterfeit in the widget and the bot hands off; an agent logs
in, finds the conversation at the top of the queue, opens it (transcript,
verdict with its rules and sources, suggestion), edits the suggestion and sends
it; the buyer's widget shows it; the bot stays silent until the agent hands
back, then answers again. Screenshots: results/panel-*.png.
"""

from __future__ import annotations

import pytest
import requests

from utils.browser import RESULTS, Chat, chromium

CREAM = "4012873365920117364"


@pytest.fixture(scope="module")
def buyer_browser():
    with chromium("420,860") as driver:
        yield driver


@pytest.fixture(scope="module")
def agent_browser():
    with chromium("1440,900") as driver:
        yield driver


class Panel:
    """The panel as an agent uses it."""

    def __init__(self, driver, base_url: str):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, 40, poll_frequency=0.2)

    def find(self, css: str):
        return self.driver.find_element("css selector", css)

    def login(self, name: str, token: str) -> None:
        self.driver.get(f"{self.base_url}/webhooks/assist/")
        self.find("#agent").send_keys(name)
        self.find("#token").send_keys(token)
        self.find("#login").click()
        self.wait.until(lambda d: self.find("#me").text == f"客服：{name}")

    # Read in one script: the panel re-renders these lists every few seconds, so
    # element handles taken one by one can go stale in between.
    def queue_ids(self) -> list:
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#queue li')).map(li => li.dataset.conversation)")

    def transcript(self) -> list:
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('#transcript li')).map(li => li.textContent)")

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(RESULTS / f"panel-{name}.png"))


def hand_back_everything(bot) -> None:
    """Clear the handoffs other tests left open (they share the bot), as an agent would."""
    headers = {"Authorization": f"Bearer {bot.panel_token}"}
    queue = requests.get(f"{bot.base_url}/webhooks/assist/api/queue", headers=headers, timeout=30).json()
    for item in queue["items"]:
        if item["band"] == "handed_off":
            requests.post(f"{bot.base_url}/webhooks/assist/api/handback", headers=headers,
                          json={"conversation_id": item["conversation_id"]}, timeout=30).raise_for_status()


def test_an_agent_answers_a_handed_off_buyer_from_the_panel(running_bot, buyer_browser, agent_browser) -> None:
    hand_back_everything(running_bot)
    chat = Chat(buyer_browser, running_bot.base_url)
    chat.open("buyer_tg_lin")
    session = chat.session_id()
    chat.say("你们卖的面霜是假货吧？防伪码都查不到，我要退货")
    chat.wait_for_bot("面霜")  # her only cream order is picked by its name, and said
    chat.wait_for_bot("优先转接人工客服")
    chat.wait.until(lambda d: buyer_browser.find_element("css selector", ".anxin-banner").is_displayed())

    panel = Panel(agent_browser, running_bot.base_url)
    login_page = requests.get(f"{running_bot.base_url}/webhooks/assist/", timeout=30)
    assert login_page.status_code == 401
    panel.login("小王", running_bot.panel_token)
    panel.wait.until(lambda d: session in panel.queue_ids())
    first = agent_browser.execute_script(
        "var li = document.querySelector('#queue li');"
        "return {id: li.dataset.conversation, band: li.dataset.band, text: li.textContent};")
    assert first["id"] == session, panel.queue_ids()[:5]
    assert first["band"] == "handed_off"
    assert "质疑正品" in first["text"] and "剩余" in first["text"]
    panel.shot("queue")

    agent_browser.execute_script("document.querySelector('#queue li').click()")
    panel.wait.until(lambda d: panel.find("#conv-title").text == "buyer_tg_lin")
    panel.wait.until(lambda d: any("假货" in line for line in panel.transcript()))
    assert "机器人已暂停" in panel.find("#bot-state").text
    verdict = panel.find("#verdict").text
    assert "转人工" in verdict and "TG.COUNTERFEIT_EVIDENCE" in verdict and "《淘宝平台争议处理规则》" in verdict
    assert "request_return" in panel.find("#nlu").text and "product=面霜" in panel.find("#nlu").text
    assert CREAM in panel.find("#order").text and "面霜" in panel.find("#order").text
    box = panel.find("#reply")
    suggestion = box.get_attribute("value")
    assert suggestion.startswith("亲，您好，我是安心海外旗舰店的客服小王。") and "提交给平台" in suggestion
    assert "报关单" not in suggestion  # documents go to the platform, never to the buyer as proof
    box.send_keys("平台核实有结果我们第一时间告诉您。")
    panel.shot("conversation")
    panel.find("#send").click()
    panel.wait.until(lambda d: "已发送给买家（修改后发送）" in panel.find("#send-status").text)

    # The buyer's widget receives the agent's edited reply.
    received = chat.wait_for_bot("平台核实有结果我们第一时间告诉您。")
    assert received.startswith("亲，您好，我是安心海外旗舰店的客服小王。")
    chat.shot("agent-reply")

    # The bot stays silent while the agent has the conversation.
    answered = len(chat.bot_texts())
    chat.say("好的，我等你们的材料")
    panel.wait.until(lambda d: any("我等你们的材料" in line for line in panel.transcript()))
    assert len(chat.bot_texts()) == answered

    panel.find("#handback").click()
    panel.wait.until(lambda d: "机器人处理中" in panel.find("#bot-state").text)
    panel.wait.until(lambda d: session not in panel.queue_ids())
    chat.say("你好")
    chat.wait.until(lambda d: len(chat.bot_texts()) > answered)
    panel.shot("handed-back")

    view = requests.get(
        f"{running_bot.base_url}/webhooks/assist/api/conversation", params={"id": session},
        headers={"Authorization": f"Bearer {running_bot.panel_token}"}, timeout=30,
    ).json()
    assert [(c["agent"], c["choice"]) for c in view["choices"]] == [("小王", "edited")]
    assert view["choices"][0]["text"].endswith("平台核实有结果我们第一时间告诉您。")


def test_the_analytics_page_shows_the_report_in_the_panel(running_bot, agent_browser) -> None:
    panel = Panel(agent_browser, running_bot.base_url)
    agent_browser.get(f"{running_bot.base_url}/webhooks/assist/")
    if not agent_browser.find_elements("css selector", "#me"):
        panel.login("小王", running_bot.panel_token)
    agent_browser.get(f"{running_bot.base_url}/webhooks/assist/analytics")
    panel.wait.until(lambda d: d.find_elements("css selector", "img[src^='data:image/png;base64,']"))
    images = agent_browser.find_elements("css selector", "img[src^='data:image/png;base64,']")
    assert len(images) == 7
    assert all(agent_browser.execute_script("return arguments[0].naturalWidth", img) > 200 for img in images)
    panel.shot("analytics")
