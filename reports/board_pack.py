"""The management board's KPI pack: one self-contained HTML page (no scripts, styles, fonts or images from a network;
charts are inline SVG) drawn from ``published.measures`` in the analysts' warehouse, so every figure in it has been
through disclosure control. Each measure gets its trend against England and the comparator area, the latest figure
with the gaps, the period, and its definition in a sentence. A PDF is printed from the same page with headless
Chromium when asked for and Chromium is installed.

A partnership that is a member of a regional hub (``YOS_HUB_WAREHOUSE`` in its environment: :mod:`reports.regional`)
also gets, for each measure, its region from the hub warehouse: every partnership's published figure with its date,
its own rank and the regional total where the hub shows one. When the hub warehouse cannot be read, the pack is as
a partnership's own, with one line saying why."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports import data_quality, regional
from reports.charts import esc as _esc
from reports.charts import nice as _nice
from reports.charts import segments as _segments
from warehouse import audit, state

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())

COLUMNS = ["ordinal", "kpi", "measure", "title", "period", "numerator", "denominator", "value", "unit", "better", "provisional",
           "suppressed", "england_value", "gap_to_england", "comparator_name", "comparator_value",
           "gap_to_comparator", "definition"]  # fmt: skip


@dataclass
class Measure:
    """One measure's series for the partnership's LA, oldest period first."""

    kpi: str
    measure: str
    title: str
    unit: str
    better: str | None
    definition: str
    comparator_name: str
    points: list[dict] = field(default_factory=list)
    note: str | None = None  # why the latest period has no figure (a feed held back, or none loaded), and since when

    @property
    def latest(self) -> dict:
        """The latest complete period (a year to date or an open reoffending cohort is provisional and can still
        change), else the latest period."""
        complete = [p for p in self.points if not p["provisional"]]
        return (complete or self.points)[-1]

    def verdict(self, gap: float | None) -> str:
        """'better', 'worse' or '' for a gap (local minus comparator) on this measure."""
        if gap is None or not self.better or gap == 0:
            return ""
        return "better" if (gap < 0) == (self.better == "lower") else "worse"


class BoardPackError(Exception):
    pass


def feed_gaps(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per feed whose latest extract was held back: why and since when, in a sentence (from ``audit.loads``)."""
    rows = state.held_back_feeds(con)
    out = {}
    for feed, partner, last_loaded, since, message in rows:
        when = since.strftime("%d %B %Y") if since else "its first extract"
        text = f"the {partner.replace('_', ' ')} {feed} extract has been held back since {when}"
        if message:
            text += f" ({message.rstrip('.')})"
        text += (
            f"; the last one loaded was on {last_loaded.strftime('%d %B %Y')}"
            if last_loaded
            else "; none has been loaded"
        )
        out[feed] = text
    return out


def measures(con: duckdb.DuckDBPyConnection, la_code: str) -> list[Measure]:
    """Every measure of ``published.measure_definitions`` for ``la_code``, in order (by KPI), with its figures from
    ``published.measures``. A measure with no figure keeps its place and says why (``Measure.note``)."""
    comparator = con.execute("select comparator_area_name from core.partnership").fetchone()
    gaps = feed_gaps(con)
    out: dict[str, Measure] = {}
    held: dict[str, list[str]] = {}
    for kpi, measure, title, unit, better, definition, feeds in con.execute(
        "select kpi, measure, title, unit, better, definition, feeds from published.measure_definitions "
        "order by ordinal"
    ).fetchall():
        m = Measure(kpi, measure, title, unit, better, definition, comparator[0] if comparator else "")
        held[measure] = [gaps[f] for f in feeds if f in gaps]
        out[measure] = m
    rows = con.execute(
        f"""select {", ".join(COLUMNS)} from published.measures where la_code = ?
            order by ordinal, period_start""",
        [la_code],
    ).fetchall()
    for r in rows:
        x = dict(zip(COLUMNS, r, strict=True))
        m = out.setdefault(
            x["measure"],
            Measure(x["kpi"], x["measure"], x["title"], x["unit"], x["better"], x["definition"], x["comparator_name"]),
        )
        m.points.append(x)
    for m in out.values():
        if held[m.measure]:
            lead = "No figure: " if not m.points else "The figures stop at the last data loaded: "
            m.note = lead + "; and ".join(held[m.measure]) + "."
        elif not m.points:
            feeds = con.execute(
                "select feeds from published.measure_definitions where measure = ?", [m.measure]
            ).fetchone()[0]
            m.note = f"No figure yet: nothing it is computed from ({', '.join(feeds)}) has been loaded for this area."
    return list(out.values())


def chart(m: Measure, width: int = 460, height: int = 190) -> str:
    """An inline SVG line chart of the measure against England and the comparator. A suppressed local figure is a
    gap in the line with an 's' on the axis; a provisional one is a hollow point."""
    pad_l, pad_r, pad_t, pad_b = 50, 28, 12, 34
    periods = [p["period"] for p in m.points]
    series = {
        "local": [p["value"] for p in m.points],
        "england": [p["england_value"] for p in m.points],
        "comparator": [p["comparator_value"] for p in m.points],
    }
    values = [v for s in series.values() for v in s if v is not None]
    top = max(values, default=1.0) or 1.0
    if m.unit == "%":
        top = 100.0
    else:
        top = _nice(top * 1.15)
    n = len(periods)

    def x(i: int) -> float:
        return pad_l + (width - pad_l - pad_r) * (0.5 if n == 1 else i / (n - 1))

    def y(v: float) -> float:
        return pad_t + (height - pad_t - pad_b) * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_esc(m.title)}: trend against England and {_esc(m.comparator_name)}">'
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#dddddd"/>'
            f'<text x="{pad_l - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" fill="#505a5f">'
            f"{_fmt(v, m.unit)}</text>"
        )
    for i, label in enumerate(periods):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - pad_b + 16}" text-anchor="middle" font-size="11" fill="#505a5f">'
            f"{_esc(label)}</text>"
        )
    styles = {
        "england": 'stroke="#505a5f" stroke-dasharray="6 4"',
        "comparator": 'stroke="#f47738" stroke-dasharray="2 3"',
        "local": 'stroke="#1d70b8" stroke-width="3"',
    }
    for name in ("england", "comparator", "local"):
        for segment in _segments(series[name]):
            pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(f'<polyline fill="none" stroke-width="2" {styles[name]} points="{pts}"/>')
    for i, p in enumerate(m.points):
        if p["value"] is not None:
            fill = "#ffffff" if p["provisional"] else "#1d70b8"
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(p["value"]):.1f}" r="4" fill="{fill}" stroke="#1d70b8" '
                f'stroke-width="2"/>'
            )
        elif p["suppressed"]:
            parts.append(
                f'<text x="{x(i):.1f}" y="{y(0) - 4:.1f}" text-anchor="middle" font-size="12" font-weight="bold" '
                f'fill="#d4351c">s</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return ""
    if unit in ("children", "offences"):
        return f"{v:,.0f}"
    if unit == "%":
        return f"{v:.1f}%"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"


def _gap(v: float | None, unit: str) -> str:
    if v is None:
        return ""
    digits = 2 if unit in ("ratio", "reoffences") or (abs(v) < 1 and unit != "%") else 1
    return f"{v:+.{digits}f}"


def region_pictures(region: regional.Region, ms: list[Measure]) -> dict[str, dict]:
    """Per measure with a figure: the region in its latest period (``regional.Picture``) and England's figure then."""
    out = {}
    for m in ms:
        if not m.points:
            continue
        pic = region.picture(m.measure, m.latest["period"])
        if pic is not None:
            england = next((p["england_value"] for p in m.points if p["period"] == pic.period), None)
            out[m.measure] = {"picture": pic, "england": england}
    return out


def out_of_date(path: Path) -> bool:
    """Whether the pack at ``path`` should be written again though no new data was published: it is missing, or the
    hub warehouse it draws the regional peers from was rebuilt after it was written."""
    return not path.exists() or regional.newer_than(path)


def render(con: duckdb.DuckDBPyConnection, area: dict[str, str], threshold: int) -> str:
    """The board pack as one HTML document, from the published warehouse ``con`` (and, for a hub member, the hub
    warehouse its configuration names)."""
    ms = measures(con, area["la_code"])
    if not any(m.points for m in ms):
        raise BoardPackError(
            f"the published warehouse holds no measures for {area['la_name']} ({area['la_code']}): "
            "load the partners' extracts first (yos run nightly)"
        )
    load_id, loaded_at = audit.latest_load(con)
    groups: dict[str, list[Measure]] = {}
    for m in ms:
        groups.setdefault(m.kpi, []).append(m)
    region = regional.read(area["la_code"])
    return _env.get_template("board_pack.html.j2").render(
        region=region if isinstance(region, regional.Region) else None,
        region_unavailable=region.reason if isinstance(region, regional.Unavailable) else None,
        regions=region_pictures(region, ms) if isinstance(region, regional.Region) else {},
        ordinal=regional.ordinal,
        area=area,
        groups=groups,
        measures=ms,
        chart=chart,
        fmt=_fmt,
        gap=_gap,
        threshold=threshold,
        data_quality=data_quality.partner_lines(con),
        load_id=load_id,
        loaded_at=loaded_at,
        generated=dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC"),
    )


def write(con: duckdb.DuckDBPyConnection, area: dict[str, str], threshold: int, path: Path) -> Path:
    """Write the pack to ``path`` (atomically: a reader never sees half a pack)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(con, area, threshold))
    tmp.replace(path)
    return path


def chromium_path() -> str | None:
    """Where Debian's ``chromium`` (or another Chromium) is installed, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


_CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                   "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def headless_chromium(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once with a new empty profile and ``args`` (what to print or capture, then the page).

    Chromium puts its singleton socket under $TMPDIR and aborts ("Socket path too long") when that path passes the
    107 bytes a Unix socket's address holds, which a service's or a test's temporary directory can. So the profile goes
    in a short directory and Chromium's $TMPDIR is the profile itself."""
    browser = chromium_path()
    if browser is None:
        raise BoardPackError("headless Chromium is not installed (apt install chromium)")
    base = tempfile.gettempdir()
    if len(base) > 32 and Path("/tmp").is_dir():
        base = "/tmp"
    with tempfile.TemporaryDirectory(prefix="yos-chromium-", dir=base) as profile:
        return subprocess.run(
            [browser, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            env={**os.environ, "TMPDIR": profile}, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip


def chromium_failure(done: subprocess.CompletedProcess[str]) -> str:
    """Chromium's exit status and, when it gave one, the reason from its last fatal line."""
    fatal = [line.split("] ", 1)[-1] for line in done.stderr.splitlines() if ":FATAL:" in line]
    return f"exit {done.returncode}" + (f": {fatal[-1]}" if fatal else "")


def print_pdf(html: Path, pdf: Path, timeout: float = 120) -> Path:
    """Print the pack to PDF with headless Chromium (Debian's ``chromium``)."""
    if chromium_path() is None:
        raise BoardPackError("a PDF needs Chromium (apt install chromium); the HTML pack was written")
    done = headless_chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.resolve().as_uri()], timeout)
    if done.returncode != 0 or not pdf.exists():
        raise BoardPackError(f"Chromium could not print {html.name} to PDF ({chromium_failure(done)})")
    return pdf
