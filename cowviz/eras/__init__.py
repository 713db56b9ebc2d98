"""The era registry.  Era ids are a contract: 5.7, 5.8, 5.9-rc, 5.9, 5.19, 6.x, and `latest` for 6.x."""
from __future__ import annotations

from .base import Era, WpDecision
from .v5_7 import Era57
from .v5_8 import Era58
from .v5_9 import Era59
from .v5_9_rc import Era59rc
from .v5_19 import Era519
from .v6_x import Era6x

ALL = (Era57(), Era58(), Era59rc(), Era59(), Era519(), Era6x())

ERAS: dict[str, Era] = {era.id: era for era in ALL}
ALIASES = {"latest": "6.x"}
ERA_IDS = tuple(ERAS)
# The eras a scenario without an `eras:` list runs in (5.19 only when named).
DEFAULT_ERA_IDS = tuple(era.id for era in ALL if era.default_listed)


def resolve(era_id: str) -> str | None:
    """The canonical id for an era id or alias, or None if unknown."""
    era_id = ALIASES.get(era_id, era_id)
    return era_id if era_id in ERAS else None


def get_era(era_id: str) -> Era:
    """The era object for an id or alias; KeyError if unknown."""
    canonical = resolve(era_id)
    if canonical is None:
        raise KeyError(era_id)
    return ERAS[canonical]


__all__ = ["ALIASES", "DEFAULT_ERA_IDS", "ERAS", "ERA_IDS", "Era", "WpDecision", "get_era", "resolve"]
