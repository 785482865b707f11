"""What a channel tells us with each message: who is writing, in which shop, with which images.

Every channel (REST ``metadata``, the widget, the IM webhook) passes
``{"buyer_id", "shop_id", "platform", "attachments"}``; an attachment is a photo
or a video (``{"type": "image" | "video", "url"}``). Metadata comes from
outside, so wrong types and oversize values are ignored rather than trusted: a
bad field must not crash a conversation, and a made-up platform must not pick a
rule set.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Tuple

from bot.rules.vocabulary import PLATFORMS

IDENTITY_FIELDS = ("buyer_id", "shop_id", "platform")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
# Site-relative means "/path": "//host/x" (and "/\host/x", which browsers read the
# same way) would load the image from another host.
IMAGE_URL = re.compile(r"^(https?://[^\s]{1,2000}|/(?![/\\])[^\s]{1,2000})$")
MAX_ATTACHMENTS = 9
EVIDENCE_TYPES = ("image", "video")
MAX_SCANNED = 50  # a message with thousands of "attachments" is not worth reading


def identity(metadata: Any) -> Dict[str, str]:
    """The valid identity fields present in ``metadata`` (others are dropped).

    Args:
        metadata: the message's metadata as the channel sent it (any JSON value).

    Returns:
        ``buyer_id`` / ``shop_id`` (1-64 characters of ``[A-Za-z0-9_.:@-]``) and
        ``platform`` (one of POLICY.md's platforms), where present and valid.
    """
    if not isinstance(metadata, Mapping):
        return {}
    found: Dict[str, str] = {}
    for field in ("buyer_id", "shop_id"):
        value = metadata.get(field)
        if isinstance(value, str) and ID_PATTERN.match(value.strip()):
            found[field] = value.strip()
    platform = metadata.get("platform")
    if isinstance(platform, str) and platform.strip() in PLATFORMS:
        found["platform"] = platform.strip()
    return found


def image_urls(metadata: Any) -> List[str]:
    """URLs of the image attachments in ``metadata`` (what the panel shows as photos).

    Args:
        metadata: the message's metadata; ``attachments`` is a list of
            ``{"type": "image" | "video", "url": ...}`` objects.

    Returns:
        At most nine http(s) or site-relative URLs, in order, without duplicates.
    """
    return _attachment_urls(metadata, ("image",))


def evidence_urls(metadata: Any) -> List[str]:
    """URLs of the photos and videos in ``metadata``: all of them count as evidence.

    POLICY.md §3 step 7: any photo or video counts, whenever it arrives; the bot
    itself asks for an unboxing video for missing parts and transit damage.
    """
    return _attachment_urls(metadata, EVIDENCE_TYPES)


def _attachment_urls(metadata: Any, kinds: Tuple[str, ...]) -> List[str]:
    if not isinstance(metadata, Mapping):
        return []
    attachments = metadata.get("attachments")
    if not isinstance(attachments, list):
        return []
    urls: List[str] = []
    for item in attachments[:MAX_SCANNED]:
        if not isinstance(item, Mapping) or item.get("type") not in kinds:
            continue
        url = item.get("url")
        if isinstance(url, str) and IMAGE_URL.match(url.strip()) and url.strip() not in urls:
            urls.append(url.strip())
    return urls[:MAX_ATTACHMENTS]
