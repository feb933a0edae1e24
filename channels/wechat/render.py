"""The bot's messages as WeChat text: numbered options for buttons, cards as lines, 2048 bytes.

A turn's messages become one text (fewer messages: less of the customer-service quota), split
only where WeChat's limit of 2048 bytes per text message forces it: at paragraph, then line,
then character boundaries, never inside a UTF-8 sequence.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from channels.gateway import numbered_by_bot

TEXT_LIMIT = 2048  # bytes per text message, passive reply and customer-service message alike
CHOOSE = "（回复数字即可）"
KIND_NAMES = {"service": "服务", "institution": "机构", "faq": "问答", "station": "服务站点"}
CARD_LISTS = ("cards", "items", "recommendations", "results")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, int | float):
        return [str(value)]
    return []


def _contact(value: Any) -> str:
    if isinstance(value, dict):
        return "，".join(_strings([value.get(k) for k in ("name", "phone", "mobile", "address")]))
    return "，".join(_strings(value))


def card_lines(card: dict[str, Any]) -> list[str]:
    """One recommendation card (service, institution …) as plain lines."""
    title = next((s for k in ("title", "name") for s in _strings(card.get(k))), "")
    kind = KIND_NAMES.get(str(card.get("kind") or card.get("type") or ""), "")
    lines = [f"【{title}】" + (f"（{kind}）" if kind else "")] if title else []
    for key in ("subtitle", "summary", "description", "text"):
        lines.extend(_strings(card.get(key)))
    reasons = _strings(card.get("reasons") or card.get("reason"))
    if reasons:
        lines.append("推荐理由：" + "；".join(reasons))
    contact = _contact(card.get("contact"))
    if contact:
        lines.append("联系方式：" + contact)
    modes = _strings(card.get("service_modes") or card.get("modes"))
    if modes:
        lines.append("服务方式：" + "、".join(modes))
    url = next(iter(_strings(card.get("url"))), "")
    if url.startswith(("http://", "https://")):
        lines.append(url)
    return lines


def custom_lines(custom: dict[str, Any]) -> list[str]:
    for key in CARD_LISTS:
        cards = custom.get(key)
        if isinstance(cards, list):
            head = _strings(custom.get("title") or custom.get("text"))
            blocks = [card_lines(c) for c in cards if isinstance(c, dict)]
            numbered = ["\n".join([f"{i}. {b[0]}", *b[1:]]) for i, b in enumerate(blocks, 1) if b]
            return [*head, *numbered]
    return card_lines(custom)


def render_turn(messages: Iterable[dict[str, Any]]) -> str:
    """A turn's messages as one text; buttons numbered across the turn, in order (unless the
    bot's text numbers them already)."""
    parts: list[str] = []
    number = 0
    for message in messages:
        lines = _strings(message.get("text"))
        custom = message.get("custom")
        if isinstance(custom, dict):
            lines.extend(custom_lines(custom))
        options = []
        for button in [] if numbered_by_bot(message) else message.get("buttons") or []:
            number += 1
            options.append(f"{number}. {button.get('title', '')}")
        text = "\n".join([*lines, *options])
        if text:
            parts.append(text)
    if number:
        parts[-1] += "\n" + CHOOSE
    return "\n\n".join(parts)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at the largest boundary that fits."""
    if len(text.encode()) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n"):
        pieces = text.split(separator)
        if len(pieces) > 1:
            return _pack(pieces, separator, limit)
    chunks, current = [], ""
    for char in text:
        if len((current + char).encode()) > limit:
            chunks.append(current)
            current = ""
        current += char
    return [*chunks, current] if current else chunks


def _pack(pieces: Sequence[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        for part in split_text(piece, limit):
            candidate = f"{current}{separator}{part}" if current else part
            if len(candidate.encode()) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = part
    if current:
        chunks.append(current)
    return chunks
