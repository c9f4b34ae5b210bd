"""Partner-facing documentation of each feed contract, generated from the contracts so it can never drift:
``docs/contracts/<feed>.md``. A partner reading an alert finds the rule it broke here, by its id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from expectations import ssda903
from expectations.contract import Contract, all_contracts, resolve_codes

SEVERITY_WORDS = {"error": "row not loaded", "warning": "row loaded, reported"}


def _codes_text(contract: Contract, col) -> str:  # noqa: ANN001
    if col.codes is None:
        return ""
    if isinstance(col.codes, str):
        from expectations.contract import _codes

        value = _codes()[col.codes]
        if isinstance(value, dict):
            return "; ".join(
                f"from {y}/{(int(y) + 1) % 100:02d}: {', '.join(map(str, v))}"
                for y, v in value["by_collection_year"].items()
            )
    return ", ".join(resolve_codes(col.codes, None))


def render(contract: Contract) -> str:
    lines = [
        f"# {contract.title} (`{contract.feed}`), contract version {contract.version}",
        "",
        f"*Generated from `expectations/contracts/{contract.feed}.yml`; do not edit by hand.*",
        "",
        f"- **Sent by:** {contract.partner}",
        f"- **Grain:** {contract.grain}",
        f"- **Cadence:** {contract.cadence}; **kind:** {contract.kind} "
        + (
            "(the full current picture: rows missing from a later snapshot are withdrawn; a snapshot that would "
            "withdraw more than a fifth of the rows held is held back as cut short, so to start again on purpose "
            "send the header `X-Extract-Kind: reset`, or put `__reset` in the intake file's name)"
            if contract.kind == "snapshot"
            else "(new and corrected rows only)"
        ),
        f"- **Key:** {', '.join(contract.key)} (each key once per extract)",
        f"- **Dates:** {contract.date_format.replace('%Y', 'YYYY').replace('%m', 'MM').replace('%d', 'DD')}",
        f"- **Specification:** {contract.spec}",
        "- **File:** CSV, UTF-8 (a byte-order mark and Windows line endings are fine), comma-separated, one header "
        "row naming exactly the columns below in any order. A header with no rows is a valid nil return.",
        "",
        "## Columns",
        "",
        "| column | type | required | allowed values / format | on load |",
        "|---|---|---|---|---|",
    ]
    for col in contract.columns.values():
        allowed = _codes_text(contract, col)
        if col.format:
            allowed = col.format.says
        if col.min is not None or col.max is not None:
            allowed = f"{col.min} to {col.max}"
        on_load = (
            "pseudonymised (keyed hash)"
            if col.identifier
            else (
                "kept as month only"
                if col.minimise == "month"
                else ("cut to outward code" if col.minimise == "outward_code" else "")
            )
        )
        desc = (". " if allowed else "") + col.description if col.description else ""
        lines.append(f"| `{col.name}` | {col.type} | {'yes' if col.required else 'no'} | {allowed}{desc} | {on_load} |")
    lines += [
        "",
        "## Rules",
        "",
        "Each rule has an id; alerts quote it.",
        "",
        "| rule | checks | if broken | how to fix |",
        "|---|---|---|---|",
    ]
    for rule in contract.rules(dt.date(2000, 1, 1)):
        checks = rule.message.replace("|", "\\|")
        lines.append(f"| `{rule.id}` | {checks} | {SEVERITY_WORDS[rule.severity]} | {rule.fix.replace('|', '/')} |")
    lines += [
        "",
        "## Whole-extract rules",
        "",
        "An extract that breaks one of these is **held back whole**: nothing from it loads and the partnership keeps "
        "using the previous good extract.",
        "",
        "| rule | checks |",
        "|---|---|",
        "| `file.encoding` | The file is UTF-8. |",
        "| `file.unreadable` | The file can be read as CSV at all (for example, one line ending throughout). |",
        "| `header.missing` | The file has a header row. |",
        "| `header.missing_columns` | Every contract column is in the header (a renamed column shows as missing). |",
        "| `header.extra_columns` | No column outside the contract. |",
        "| `header.personal_data_columns` | No column that looks like a name, address or free text. |",
        "| `header.duplicate_columns` | Each column named once. |",
        "",
        "A line that cannot be read as CSV (too many or too few fields, broken quoting) breaks `line.malformed`: "
        "that line is not loaded, the rest are.",
        "",
    ]
    return "\n".join(lines)


def write_docs(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for feed, contract in all_contracts().items():
        path = out / f"{feed}.md"
        path.write_text(render(contract))
        written.append(path)
    written.append(ssda903.write_coverage(out))
    return written
