"""The expected-extract calendar: which extracts are due, which are late, and who hears about it.

Each feed's cadence comes from its contract (nightly, weekly, monthly, quarterly, yearly); when that cadence is due
comes from the configuration (``calendar:``), in Europe/London time and on working days: weekends and England and
Wales bank holidays (the ``holidays`` package, offline) are not working days, and a due day that is not one moves
to the next that is. An extract received after the previous due time and by this one is on time, and a nil return
(a header alone) is an extract like any other. Only the latest due time is ever overdue: a missed due time earns the
partner exactly one reminder, however long it stays missed, and never a backlog; when the due time before it was
missed too, the YOS data lead is told (once). Every notice sent is recorded in
``audit.reminders``, so a re-run never repeats one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import duckdb
import holidays

from expectations.contract import get_contract
from warehouse import audit, landing

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DueRule:
    cadence: str
    time: dt.time
    weekday: int | None = None
    working_day: int | None = None
    months: tuple[int, ...] = tuple(range(1, 13))

    @classmethod
    def from_config(cls, cadence: str, raw: dict) -> DueRule:
        hh, mm = (int(x) for x in str(raw.get("time", "12:00")).split(":"))
        weekday = raw.get("weekday")
        return cls(
            cadence=cadence,
            time=dt.time(hh, mm),
            weekday=WEEKDAYS.index(weekday.lower()) if weekday else None,
            working_day=raw.get("working_day"),
            months=tuple(raw.get("months") or range(1, 13)),
        )


@cache
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.UnitedKingdom(subdiv="ENG", years=[year]).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def _nth_working_day(year: int, month: int, n: int) -> dt.date:
    day = dt.date(year, month, 1)
    count = 0
    while True:
        if is_working_day(day):
            count += 1
            if count == n:
                return day
        day += dt.timedelta(days=1)


def due_days(rule: DueRule, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days ``rule`` falls due from ``start`` to ``end`` inclusive (already moved to working days)."""
    days: set[dt.date] = set()
    if rule.cadence == "nightly":
        d = start
        while d <= end:
            if is_working_day(d):
                days.add(d)
            d += dt.timedelta(days=1)
    elif rule.cadence == "weekly":
        d = start - dt.timedelta(days=7)
        d += dt.timedelta(days=((rule.weekday or 0) - d.weekday()) % 7)
        while d <= end + dt.timedelta(days=7):
            days.add(next_working_day(d))
            d += dt.timedelta(days=7)
    else:  # monthly, quarterly, yearly: the nth working day of the due months
        for year in range(start.year - 1, end.year + 1):
            for month in rule.months:
                days.add(_nth_working_day(year, month, rule.working_day or 1))
    return sorted(d for d in days if start <= d <= end)


def due_times(rule: DueRule, start: dt.date, end: dt.date) -> list[dt.datetime]:
    return [dt.datetime.combine(d, rule.time, tzinfo=LONDON) for d in due_days(rule, start, end)]


@dataclass(frozen=True)
class Notice:
    partner: str
    feed: str
    due_at: dt.datetime
    kind: str  # reminder (to the partner) | escalation (to the YOS data lead)
    previous_due_at: dt.datetime | None
    last_received_at: dt.datetime | None


def rule_for(feed: str, calendar: dict) -> DueRule | None:
    overrides = calendar.get("feeds") or {}
    if feed in overrides and overrides[feed] is None:
        return None
    cadence = get_contract(feed).cadence
    base = dict((calendar.get("due") or {}).get(cadence) or {})
    base.update(overrides.get(feed) or {})
    return DueRule.from_config(cadence, base) if base or cadence == "nightly" else None


def check(con: duckdb.DuckDBPyConnection, feeds: dict[str, str], calendar: dict, now: dt.datetime) -> list[Notice]:
    """Notices due now for ``feeds`` (feed -> partner) that have not been sent yet. Sends nothing."""
    starts = dt.date.fromisoformat(str(calendar.get("starts", "2000-01-01")))
    sent = audit.sent_notices(con)
    notices = []
    for feed, partner in feeds.items():
        rule = rule_for(feed, calendar)
        if rule is None:
            continue
        received = landing.received_times(con, feed)
        times = [t for t in due_times(rule, starts - dt.timedelta(days=400), now.astimezone(LONDON).date())
                 if t <= now]  # fmt: skip
        if not times:
            continue
        due = times[-1]  # only the latest due time can be overdue now: no backlog of reminders, ever
        previous = times[-2] if len(times) > 1 else None
        before = times[-3] if len(times) > 2 else None

        def arrived(after: dt.datetime | None, by: dt.datetime, arrivals: list[dt.datetime] = received) -> bool:
            return any((after is None or r > after) and r <= by for r in arrivals)

        if due.date() < starts or arrived(previous, now):
            continue  # on time, or arrived late since: stay quiet
        last = max(received, default=None)
        if (feed, due.astimezone(dt.UTC), "reminder") not in sent:
            notices.append(Notice(partner, feed, due, "reminder", previous, last))
        second_miss = previous is not None and previous.date() >= starts and not arrived(before, previous)
        if second_miss and (feed, due.astimezone(dt.UTC), "escalation") not in sent:
            notices.append(Notice(partner, feed, due, "escalation", previous, last))
    return notices


def record(con: duckdb.DuckDBPyConnection, notice: Notice, recipient: str, status: str, error: str | None) -> None:
    audit.record_notice(
        con, partner=notice.partner, feed=notice.feed, due_at=notice.due_at, kind=notice.kind, recipient=recipient,
        status=status, error=error,
    )  # fmt: skip
