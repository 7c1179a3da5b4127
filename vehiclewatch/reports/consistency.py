"""Evidence that disagrees with its own report: a photo taken long before or after the
reported sighting, or far from the position the reporter gave. Shown to officers beside the
photo; the score is not touched."""

import math
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from .models import Report, ReportPhoto

TIME_TOLERANCE = timedelta(days=1)
DISTANCE_TOLERANCE_M = 1000
EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def photo_flags(report: Report, photo: ReportPhoto) -> list[str]:
    """What about this photo disagrees with the report, in words for the officer."""
    flags = []
    if photo.taken_at is not None and abs(photo.taken_at - report.seen_at) > TIME_TOLERANCE:
        days = abs(photo.taken_at - report.seen_at).days
        flags.append(str(_l("拍摄时间与举报的看到时间相差约 %(n)d 天", n=days)))
    if None not in (photo.latitude, photo.longitude, report.latitude, report.longitude):
        metres = distance_m(photo.latitude, photo.longitude, report.latitude, report.longitude)
        if metres > DISTANCE_TOLERANCE_M:
            flags.append(str(_l("拍摄位置距举报填写的位置约 %(km).1f 公里", km=metres / 1000)))
    return flags
