"""The bot's messages as WeChat text: numbered options, cards, WeChat's 2048-byte limit."""

import pytest

from channels.wechat.render import CHOOSE, TEXT_LIMIT, render_turn, split_text


def test_buttons_are_numbered_across_the_turn() -> None:
    text = render_turn(
        [
            {"text": "为您推荐以下服务：", "buttons": [{"title": "查看详情", "payload": "/a"}]},
            {
                "text": "是否提交？",
                "buttons": [
                    {"title": "好的", "payload": "/affirm"},
                    {"title": "暂不提交", "payload": "/deny"},
                ],
            },
        ]
    )
    assert text == (
        "为您推荐以下服务：\n1. 查看详情\n\n是否提交？\n2. 好的\n3. 暂不提交\n" + CHOOSE
    )


def test_options_the_bot_numbered_itself_are_not_numbered_again() -> None:
    text = "您希望以哪种方式办理？回复数字即可：\n1. 送样\n2. 上门"
    message = {
        "text": text,
        "buttons": [{"title": "送样", "payload": "1"}, {"title": "上门", "payload": "2"}],
    }
    assert render_turn([message]) == text


def test_recommendation_cards_become_lines() -> None:
    text = render_turn(
        [
            {
                "text": "",
                "buttons": [],
                "custom": {
                    "title": "为您推荐：",
                    "cards": [
                        {
                            "kind": "service",
                            "title": "电线电缆检测（6.4.2）",
                            "reasons": ["覆盖电线电缆产品", "本地可办"],
                            "service_modes": ["线上", "上门"],
                        },
                        {
                            "kind": "institution",
                            "name": "无锡市检验检测认证研究院",
                            "contact": {"name": "王工", "phone": "0510-12345678"},
                            "url": "javascript:alert(1)",
                        },
                    ],
                },
            }
        ]
    )
    assert text.splitlines() == [
        "为您推荐：",
        "1. 【电线电缆检测（6.4.2）】（服务）",
        "推荐理由：覆盖电线电缆产品；本地可办",
        "服务方式：线上、上门",
        "2. 【无锡市检验检测认证研究院】（机构）",
        "联系方式：王工，0510-12345678",
    ]


def test_markup_stays_text() -> None:
    assert render_turn([{"text": "<b>粗体</b> & <script>", "buttons": []}]) == (
        "<b>粗体</b> & <script>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "短消息",
        "检" * 683,  # 2049 bytes: one character too many
        "\n\n".join(f"第{i}段" + "。" * 400 for i in range(5)),
        "\n".join(f"第{i}行" + "，" * 100 for i in range(30)),
        "a" * 5000 + "检测" * 1000,
    ],
)
def test_split_keeps_every_character_within_the_limit(text: str) -> None:
    pieces = split_text(text)
    assert all(0 < len(p.encode()) <= TEXT_LIMIT for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    if len(text.encode()) <= TEXT_LIMIT:
        assert pieces == [text]


def test_split_prefers_paragraphs() -> None:
    paragraphs = ["一" * 500, "二" * 500, "三" * 500]  # 1500 bytes each
    assert split_text("\n\n".join(paragraphs)) == paragraphs
