"""24-hour times wherever Django formats a time by its locale (the admin's lists, pages and
history): en-gb's own formats write "10 a.m." and "9:08 p.m." ("P"), while every page the
clinic writes itself says "10:00" and "21:08" (booking/times.py, booking/schedule.py).

Found for LANGUAGE_CODE "en-gb" (Django tries en_GB, then en) and for "en" alike; only the
formats with a time are here, so dates keep en-gb's day-month order ("3 Jun 2026").
"""

TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "j M Y, H:i"  # 3 Jun 2026, 14:05
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 03/06/2026 14:05
