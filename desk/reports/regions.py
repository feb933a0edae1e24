"""Which region (district or town of REGIONS) a free-text place names."""

from functools import lru_cache

from knowledge.constants import REGIONS

UNKNOWN_REGION = "unknown"
UNKNOWN_REGION_LABEL = "未注明区域"
_SUFFIXES = ("街道", "镇", "区")


def _short(region: str) -> str:
    """The region without its city: 江阴市周庄镇 → 周庄镇."""
    return region.split("市", 1)[1] if "市" in region else region


def _bare(name: str) -> str:
    """The name without its kind: 周庄镇 → 周庄, 新吴区 → 新吴."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


_KEYS: tuple[tuple[str, str], ...] = tuple(
    (key, region)
    for region in REGIONS
    for key in dict.fromkeys((region, _short(region), _bare(_short(region))))
)


@lru_cache(maxsize=4096)
def region_of(place: str | None) -> str:
    """The region a place lies in (the full name, e.g. 江阴市周庄镇), else ``unknown``.

    The longest matching name wins, so 江阴市高新区 is not taken for another 高新区."""
    text = (place or "").strip()
    if not text:
        return UNKNOWN_REGION
    hits = [(len(key), region) for key, region in _KEYS if key in text]
    return max(hits)[1] if hits else UNKNOWN_REGION


def region_label(region: str) -> str:
    return UNKNOWN_REGION_LABEL if region == UNKNOWN_REGION else region
