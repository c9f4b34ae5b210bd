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
    assert len(attachment(msg, "police_outcomes_failing_rows.csv")) < 5_000
    assert len(text_of(msg)) < 25_000 and len(html_of(msg)) < 35_000  # the contract appended, nothing echoed whole


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
    assert len(text_of(msg)) < 25_000 and len(html_of(msg)) < 35_000  # the contract appended, nothing echoed whole


def test_a_64_kb_header_is_kept_at_a_readable_length_in_the_audit_trail(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    cols = list(VALID["police_outcomes"])
    path.write_text(",".join([*cols, "Y" * 65_000]) + "\n" + ",".join([*VALID["police_outcomes"].values(), "x"]) + "\n")
    assert pipeline.load(pipeline.land_file("police_outcomes", path)).status == "held_back"
    (message,) = pipeline.con.execute("select message from audit.extract_problems").fetchone()
    assert message.endswith("Y" * 120 + "… (65,000 characters, cut).") and len(message) < 300, message[:300]


def test_the_plain_text_alert_is_not_html_escaped(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    utf8 = write_extract(tmp_path / "u8.csv", "police_outcomes", [{"outcome_id": "A"}])
    path = tmp_path / "u16.csv"
    path.write_bytes(utf8.read_text().encode("utf-16"))  # held back: "The file is UTF-16 (Excel's 'Unicode Text')"
    pipeline.alert("run-u16", [pipeline.load(pipeline.land_file("police_outcomes", path))])
    msg = police_mail(mail)
    assert "(Excel's 'Unicode Text')" in text_of(msg)
    assert "&#39;" not in text_of(msg)
    assert "Excel&#39;s" in html_of(msg)  # the HTML part is still escaped


def test_the_alert_attaches_the_contract_rather_than_naming_a_repository_path(
    pipeline: Pipeline, tmp_path: Path, mail
) -> None:
    path = write_extract(tmp_path / "one.csv", "police_outcomes", [{"outcome_id": "A", "sex": "X"}])
    pipeline.alert("run-one", [pipeline.load(pipeline.land_file("police_outcomes", path))])
    msg = police_mail(mail)
    text, html = text_of(msg), html_of(msg)
    assert "docs/contracts" not in text and "docs/contracts" not in html
    assert "partner-extracts.md" not in text.split("========")[0]  # a document of ours it does not have
    assert "Contract: police_outcomes_contract.md (at the end of this message), rule police_outcomes.sex.codes" in text
    contract = (Path(__file__).parents[1] / "docs" / "contracts" / "police_outcomes.md").read_text()
    assert "police_outcomes.sex.codes" in contract  # the rule it broke, found by its id
    assert text.replace("\r\n", "\n").rstrip().endswith(contract.rstrip())  # the partner-facing document itself
    assert "police_outcomes_contract.md: the contract your extract is checked against" in html
    assert [p.get_filename() for p in msg.iter_attachments()] == ["police_outcomes_failing_rows.csv"]


def test_a_utf16_file_held_back_counts_the_rows_it_holds(pipeline: Pipeline, tmp_path: Path, mail) -> None:
    utf8 = write_extract(tmp_path / "u8.csv", "police_outcomes", [{"outcome_id": f"A{n}"} for n in range(5)])
    for encoding in ("utf-16", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(
            ("\ufeff" if encoding.endswith("be") else "").encode(encoding) + utf8.read_text().encode(encoding)
        )
        result = pipeline.load(pipeline.land_file("police_outcomes", path))
        assert result.status == "held_back" and result.rows_received == 5, (encoding, result.rows_received)
    pipeline.alert("run-u16", [result])
    assert "5 rows received, 0 loaded, 5 not loaded" in text_of(police_mail(mail))


def test_the_ssda903_year_checked_against_is_said_in_the_alert_and_the_report(
    pipeline: Pipeline, partnership: Path, tmp_path: Path, mail: MailCatcher
) -> None:
    import datetime as dt

    with open(partnership / "childrens_social_care" / "cic_header.csv", newline="") as f:
        row = next(csv.DictReader(f))
    path = write_extract(tmp_path / "header.csv", "cic_header", [{**row, "SEX": "9"}])  # no year's SEX code
    year = (dt.date(2023, 4, 1), dt.date(2024, 3, 31))  # a 2023/24 return sent again
    result = pipeline.load(pipeline.land_file("cic_header", path, period=year))
    assert result.rows_quarantined == 1
    pipeline.alert("run-903", [result])
    (msg,) = [m for m in mail.messages() if m["To"] == "data-lead@csc.example"]
    assert "checked against the 2023/24 SSDA903 rules" in text_of(msg)
    assert "checked against the 2023/24 SSDA903 rules" in html_of(msg)
    (report,) = (pipeline.paths.reports).glob(f"*{result.extract.extract_id}*.html")
    assert "checked against the 2023/24 SSDA903 rules" in report.read_text()
