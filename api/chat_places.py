"""The county's villages as the chat page offers them: the taps of the village picker, and the
village a QR poster's link names (``/chat?v=河湾村&t=城关镇``)."""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.places import Gazetteer, load_gazetteer

MAX_NAME_CHARS = 20


@dataclass(frozen=True)
class PosterPlace:
    village: str
    township: str


def poster_place(
    village: str | None, township: str | None = None, gazetteer: Gazetteer | None = None
) -> PosterPlace | None:
    """The gazetteer's village a poster link names (exact name, else a unique sound-alike in
    the township); None for anything else, so a hand-edited link never invents a village."""
    if not village or len(village) > MAX_NAME_CHARS or len(township or "") > MAX_NAME_CHARS:
        return None
    places = gazetteer or load_gazetteer()
    found = places.village(village, township or None)
    if found is None:
        sounding = [
            v for v in places.villages_sounding(village) if not township or v.township == township
        ]
        found = sounding[0] if len(sounding) == 1 else None
    return PosterPlace(found.name, found.township) if found else None


def picker_places(gazetteer: Gazetteer | None = None) -> list[dict]:
    """[{"township": 城关镇, "villages": [河湾村, …]}, …] for the page's picker."""
    places = gazetteer or load_gazetteer()
    return [
        {"township": t.name, "villages": [v.name for v in t.villages]} for t in places.townships
    ]
