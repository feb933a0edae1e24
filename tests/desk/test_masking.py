"""Masking of mobiles, ID numbers and credit codes: in text, in logs, in responses by role."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from desk.masking import install_log_masking, uninstall_log_masking
from desk.paths import REPO_ROOT
from knowledge.personal_data import (
    mask_code,
    mask_mobile,
    mask_text,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
)

from .staff import staff_headers

CREDIT_CODE = "91320281MA1W6XKQ0T"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def masked_logs() -> Iterator[None]:
    install_log_masking()
    yield
    uninstall_log_masking()


def test_masks_keep_only_what_identifies_nothing() -> None:
    assert mask_mobile("13912345678") == "139****5678"
    assert mask_code(CREDIT_CODE) == "91" + "*" * 14 + "0T"
    assert mask_code(ID_NUMBER) == "11" + "*" * 14 + "2X"
    assert mask_code("ab") == "**"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请联系 13912345678。", "请联系 139****5678。"),
        ("手机 139 1234 5678 / +86 139-1234-5678", "手机 139****5678 / 139****5678"),
        (f"身份证{ID_NUMBER}号", "身份证11**************2X号"),
        (f"代码 {CREDIT_CODE}", "代码 91**************0T"),
        ("需求 XQ20261123-0001 于 2026-11-23 提交", "需求 XQ20261123-0001 于 2026-11-23 提交"),
        ("耗时 1234567 毫秒，订单 201391234567890", "耗时 1234567 毫秒，订单 201391234567890"),
    ],
)
def test_mask_text_finds_personal_numbers_in_free_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


def test_mobiles_are_checked_against_the_chinese_numbering_plan() -> None:
    assert normalise_mobile("+86 139-1234-5678") == "13912345678"
    for bad in ("12345678901", "10012345678", "1391234567", "0510-12345678"):
        with pytest.raises(ValueError, match="手机号码"):
            normalise_mobile(bad)


def test_credit_codes_and_id_numbers_need_their_check_character() -> None:
    assert normalise_credit_code(" 91320281ma1w6xkq0t ") == CREDIT_CODE
    with pytest.raises(ValueError, match="校验位"):
        normalise_credit_code(CREDIT_CODE[:-1] + "U")
    with pytest.raises(ValueError, match="18位"):
        normalise_credit_code(CREDIT_CODE[:-1])
    assert normalise_id_number(ID_NUMBER.lower()) == ID_NUMBER
    with pytest.raises(ValueError, match="校验位"):
        normalise_id_number("110105194912310021")


def test_a_log_line_with_a_mobile_is_masked(
    masked_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("desk.test.masking")
    with caplog.at_level(logging.INFO):
        log.info("demand opened mobile=%s credit=%s", "13912345678", CREDIT_CODE)
        log.warning("联系人电话 139 1234 5678，身份证 %s", ID_NUMBER)
        try:
            raise ValueError("bad mobile 13912345678")
        except ValueError:
            log.exception("failed for %s", "13912345678")
    assert "139****5678" in caplog.text and "91**************0T" in caplog.text
    for raw in ("13912345678", "139 1234 5678", CREDIT_CODE, ID_NUMBER):
        assert raw not in caplog.text
    assert "bad mobile 139****5678" in caplog.text  # the traceback too


def test_formatters_that_read_args_keep_working(
    masked_logs: None, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's access formatter unpacks record.args: masking keeps them a 5-tuple."""
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/api/x?mobile=13912345678",
            "1.1",
            200,
        )
    record = caplog.records[-1]
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.args[2] == "/api/x?mobile=139****5678" and record.args[4] == 200


def test_the_app_entry_point_installs_log_masking(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QCLINIC_VAR_DIR": str(tmp_path / "var"),
        "QCLINIC_DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
    }
    code = (
        "import logging, app.asgi; "
        "logging.getLogger('desk.anything').warning('callback for 13912345678')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "callback for 139****5678" in result.stderr
    assert "13912345678" not in result.stderr


DEMAND = {
    "conversation_id": "web:masking-0001",
    "need_text": "压力表校准",
    "product": "压力表",
    "place": "无锡市新吴区",
    "contact_name": "李娜",
    "contact_mobile": "13800001111",
    "service_ids": ["6.1.2"],
}


def test_experts_see_demand_mobiles_masked_staff_in_full(
    client: TestClient, service_headers: dict[str, str]
) -> None:
    created = client.post("/api/demands", json=DEMAND, headers=service_headers)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["contact_mobile"] == "13800001111"  # the bot's own conversation

    staff = staff_headers(client)
    assert (
        client.get(f"/api/demands/{number}", headers=staff).json()["contact_mobile"]
        == "13800001111"
    )
    expert = staff_headers(client, role="expert")
    one = client.get(f"/api/demands/{number}", headers=expert)
    assert one.status_code == 200 and one.json()["contact_mobile"] == "138****1111"
    listed = client.get(
        "/api/demands", headers=expert, params={"conversation_id": DEMAND["conversation_id"]}
    )
    assert [d["contact_mobile"] for d in listed.json()["items"]] == ["138****1111"]
    assert client.get(f"/api/demands/{number}/events", headers=expert).status_code == 200
    # experts read the demands of one conversation, never the whole list, and change nothing
    assert client.get("/api/demands", headers=expert).status_code == 403
    assert (
        client.post(
            f"/api/demands/{number}/transitions", json={"to": "responded"}, headers=expert
        ).status_code
        == 403
    )
