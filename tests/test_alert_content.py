"""What an alert says, through a real load and a real SMTP server: values a partner sent of any size are read back
and echoed at a readable length; the plain text is not HTML-escaped; the partner gets the contract it is measured
against, not a path in a repository it does not have."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from flows.steps import Pipeline
from sandbox.mailcatcher import MailCatcher
from tests.helpers import VALID, write_extract


@pytest.fixture
def mail(tmp_path: Path, pipeline: Pipeline):  # noqa: ANN201
    with MailCatcher(tmp_path / "mail") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        yield catcher


def police_mail(catcher: MailCatcher) -> EmailMessage:
    (msg,) = [m for m in catcher.messages() if m["To"] == "data-lead@police.example"]
    return msg


def text_of(msg: EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def html_of(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


def attachment(msg: EmailMessage, name: str) -> bytes:
    (part,) = [p for p in msg.iter_attachments() if p.get_filename() == name]
    return part.get_payload(decode=True)


def test_a_field_over_128_kb_is_read_back_and_the_partner_is_told(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    big = "X" * 200_000  # past the csv module's default field limit of 131,072
    path = write_extract(
        tmp_path / "big.csv", "police_outcomes", [{"outcome_id": "A", "sex": big}, {"outcome_id": "B"}]
    )
    result = pipeline.load(pipeline.land_file("police_outcomes", path))
    assert result.status == "loaded"
    sent = pipeline.alert("run-big", [result])
    assert [s["status"] for s in sent] == ["sent"]
    msg = police_mail(mail)
    assert "police_outcomes.sex.codes" in text_of(msg)
    rows = list(csv.DictReader(io.StringIO(attachment(msg, "police_outcomes_failing_rows.csv").decode())))
    (row,) = rows
    assert row["line"] == "2" and row["outcome_id"] == "A"  # the partner's own row, found by its line
    assert row["sex"] == "X" * 1_000 + "… (200,000 characters, cut)"
    assert len(bytes(msg)) < 20_000


def test_a_64_kb_header_is_echoed_at_a_readable_length(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    name = "Z" * 65_536
    path = tmp_path / "wide.csv"
    cols = list(VALID["police_outcomes"])
    path.write_text(",".join([*cols, name]) + "\n" + ",".join([*VALID["police_outcomes"].values(), "x"]) + "\n")
    result = pipeline.load(pipeline.land_file("police_outcomes", path))
    assert result.status == "held_back"
    pipeline.alert("run-wide", [result])
    msg = police_mail(mail)
    text, html = text_of(msg), html_of(msg)
    assert re.search(r"define: Z{120}… \(65,\d{3} characters, cut\)", text), text[:2000]
    assert "characters, cut)" in html
    assert "Z" * 121 not in text and "Z" * 121 not in html
    assert len(bytes(msg)) < 20_000
