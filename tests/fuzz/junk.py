"""What the fuzz tests post: junk of every kind, and valid values with a few fields broken."""

import operator
import string
from datetime import UTC, date, time, timedelta
from datetime import timezone as fixed_zone

from hypothesis import strategies as st

from tests.helpers import LONDON

SNIPPETS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{ 7|add:7 }}{% debug %}",
    "' OR 1=1 --",
    "'; DROP TABLE booking_session; --",
    "1; SELECT pg_sleep(1)",
    "%00",
    "%s%s%s%n",
    "../../etc/passwd",
    "\u202egnp.exe",  # right-to-left override
    "مرحبا بالعالم",
    "שלום עולם",
    "😀👩‍⚕️🏳️‍🌈",
    "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "\r\n\r\nSet-Cookie: x=1",
    "\ufeff\u200b\u2028\u2029",
    "None",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "-0",
    "1e309",
    "0x10",
    "1_000",
    " 1 ",
    "²",  # a digit to str.isdigit(), not to int()
    "٣",  # an Arabic-Indic 3
    "①②③④⑤⑥⑦⑧",
    "¹²³⁴⁵⁶⁷⁸⁹",
    "\x00",
    "",
]
EDGE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2038-01-19",
    "2038-01-19T03:14:08",
    "2026-02-29",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "2026-6-1",
    "20260601",
    "01/06/2026",
    "2026-06-01T",
    "2026-03-29T01:30",  # inside London's spring-forward gap
    "2026-10-25T01:30",  # London's autumn fold
    "2026-06-02T25:00",
    "2026-06-02T10:00+25:00",
    "2026-06-02T10:00:00+00:00",
    "2026-06-02T10:00Z",
    "2026-06-02T10:00:00.123456789+01:00",
    "+002026-06-02",
    "-0001-01-01",
    "0000-01-01",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "10000-01-01",
]
EDGE_TIMES = ["00:00", "23:59", "24:00", "25:00", "10:00", "10:00:59.999999", "-1:00", "9", "1:30"]
ZONES = [UTC, LONDON, fixed_zone(timedelta(hours=14)), fixed_zone(-timedelta(hours=12))]

TEXT = st.text(max_size=40)
CONTROL = st.text(st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Mn"]), max_size=20)
LONG = st.builds(
    operator.mul,
    st.sampled_from(["a", "é", "😀", "<b>x</b>", "\u202e", "9", "' OR 1=1 --"]),
    st.integers(10_000, 12_000),
)
NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from([str(2**31), str(2**63), str(-(2**63) - 1), "-1", "0", "1.5", "-1e3"]),
    st.floats().map(str),
)
DATES = st.one_of(st.dates().map(date.isoformat), st.sampled_from(EDGE_DATES))
DATETIMES = st.one_of(
    st.builds(
        lambda moment, pattern: moment.isoformat() if pattern == "iso" else f"{moment:{pattern}}",
        st.datetimes(timezones=st.none() | st.sampled_from(ZONES)),
        st.sampled_from(["iso", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]),
    ),
    st.sampled_from(EDGE_DATES),
)
TIMES = st.one_of(st.times().map(time.isoformat), st.sampled_from(EDGE_TIMES))
IDS = st.one_of(
    st.integers(-(2**63) - 5, 2**63 + 5).map(str),
    st.integers(0, 60).map(str),
)
SLOTS = st.one_of(
    st.builds(lambda moment, pid: f"{moment}|{pid}", DATETIMES, IDS),
    st.sampled_from(["|", "||", "x|y", "2026-06-02T10:00:00+01:00|", "|1", "1|2|3"]),
)
JUNK = st.one_of(
    TEXT,
    CONTROL,
    st.sampled_from(SNIPPETS),
    LONG,
    NUMBERS,
    IDS,
    DATES,
    DATETIMES,
    TIMES,
    SLOTS,
)
# Admin searches: a few words, or thousands (the bound is 10 words, 100 characters).
SEARCHES = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(["patient", "a", "07700", "@", "%", "_", "Ł"]), max_size=3000).map(
        " ".join
    ),
)
URLSAFE = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=40)
PATH_TOKENS = st.one_of(TEXT.filter(bool), st.sampled_from(SNIPPETS[:-1]), URLSAFE, LONG)
JUNK_KEYS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "csrfmiddlewaretoken", "__proto__", "slot[]", "q[]", "_save", "index"]),
)


def values(good: st.SearchStrategy) -> st.SearchStrategy:
    """One field's values as posted: one or several (a repeated field), good or junk."""
    one = st.one_of(good, JUNK) if good is not None else JUNK
    return st.lists(one, min_size=1, max_size=3)


@st.composite
def form_data(draw, fields: dict[str, st.SearchStrategy]) -> dict[str, list[str]]:
    """Either each field optional and good or junk, or a valid post with a few fields broken."""
    if draw(st.booleans()) and fields:
        data = {name: [draw(good)] for name, good in fields.items()}
        for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
            how = draw(st.sampled_from(["junk", "drop", "repeat", "repeat-junk"]))
            if how == "drop":
                del data[name]
            elif how == "junk":
                data[name] = draw(values(None))
            elif how == "repeat":
                data[name] = data[name] * 2
            else:
                data[name] = [*data[name], *draw(values(None))]
    else:
        data = draw(st.fixed_dictionaries({}, optional={n: values(g) for n, g in fields.items()}))
    data.update(draw(st.dictionaries(JUNK_KEYS, values(None), max_size=2)))
    return data


SLUGS = st.one_of(
    st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=60),
    st.sampled_from(["microneedling", "consultation", "-", "_", "a" * 300]),
)
