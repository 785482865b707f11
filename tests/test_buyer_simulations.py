"""The buyer-simulation suite, played against the real servers (tests/buyer_simulations/).

Every conversation of ``tests/buyer_simulations/conversations/*.yml`` is played over
REST with its buyer's channel metadata, on a bot of its own (the suite's 100-odd
conversations would crowd the shared bot's panel queue and analytics), and scored
by ``tests/utils/buyer_simulation.py``: the decisions logged, no question asked
twice, no loop. The score per kind is printed; the suite must be fully right in at
least 90% of the conversations (issue 13).
"""

from __future__ import annotations

import collections
from typing import Iterator

import pytest

from conftest import RunningBot, launch_bot, stop_bot
from utils.buyer_simulation import (
    ORDERS_FILE,
    Bot,
    buyer_identities,
    identity_of,
    load_suite,
    play,
    report,
    score_table,
)

REQUIRED_SHARE = 0.90
PLATFORMS = {"tmall_global", "tmall", "taobao", "jd_international", "lazada"}


@pytest.fixture(scope="module")
def simulation_bot(tmp_path_factory, fake_im_platform) -> Iterator[RunningBot]:
    """A bot of its own, with the suite's orders imported."""
    bot = launch_bot(tmp_path_factory.mktemp("simulation_bot"), fake_im_platform.url)
    imported = bot.run("bot.rules", "orders", "import", str(ORDERS_FILE))
    if imported.returncode != 0:
        stop_bot(bot)
        pytest.fail(f"could not import the simulation orders:\n{imported.stderr}")
    yield bot
    stop_bot(bot)


def test_the_suite_covers_every_platform_and_kind() -> None:
    suite = load_suite()
    identities = buyer_identities()
    assert len(suite) >= 80
    assert {identity_of(c, identities)["platform"] for c in suite} == PLATFORMS
    kinds = collections.Counter(c.kind for c in suite)
    assert set(kinds) == {
        "reason_own_words", "photos", "several_things", "order_choice", "request_words",
        "remedy", "follow_up", "correction", "platform",
    }
    assert all(c.expect or c.cancelled for c in suite)  # each says what must come of it


def test_buyers_are_understood_the_first_time(simulation_bot, capsys) -> None:
    from bot.conversation.desk import AfterSalesDesk

    desk = AfterSalesDesk(simulation_bot.env["DATABASE_URL"])
    bot = Bot(simulation_bot.base_url, simulation_bot.token, desk.decisions)
    identities = buyer_identities()
    results = [play(bot, conversation, identities) for conversation in load_suite()]
    with capsys.disabled():
        print("\nbuyer-simulation suite, conversations fully right:\n" + score_table(results))
    right = sum(result.right for result in results) / len(results)
    assert right >= REQUIRED_SHARE, report(results)
