"""Which supervision items a complaint is compared under: its predicted item and, when the
classifier is unsure, the next likely ones (清单外 included).

A relative calling for someone, or a complaint that never names the programme, is often put in
the wrong item or in 清单外 with little confidence; comparing it only under that guess hides it
from the event it belongs to. One rule, used by ``hotline cluster`` and the case service alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# The classifier's top items considered when it is unsure (the first is the prediction itself).
TOP_ITEMS = 3
# A runner-up less likely than this is noise, not an alternative.
ALTERNATIVE_MIN_PROBABILITY = 0.1


def alternatives(
    category: str,
    top: Iterable[Sequence] | None,
    unsure: bool,
    min_probability: float = ALTERNATIVE_MIN_PROBABILITY,
) -> tuple[str, ...]:
    """Further items to compare an unsure prediction under: the others of the top three that are
    at least ``min_probability`` likely. ``top`` is [(code, probability), …], most likely first
    (as ``Prediction.top`` and the stored ``Case.top``). A confident prediction has none."""
    if not unsure or not top:
        return ()
    out: list[str] = []
    for code, probability in list(top)[:TOP_ITEMS]:
        if code != category and code not in out and float(probability) >= min_probability:
            out.append(str(code))
    return tuple(out)
