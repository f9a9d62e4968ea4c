"""Water level: flood sensors on drains and on the Batanghari river bank.

Aman, in the field study, includes safety from natural disasters (*bencana alam*); Kota Jambi
lies on the Batanghari. A sensor reports the water level in cm above its registered zero; each
device's warning and danger levels are in the registry (``calibration: {warning_cm, danger_cm}``).

Per WIB day (``evidence``): the highest level, the hours at or above the warning and the danger
level, and coverage (hours the readings stand for, over hours expected). A device at its danger
level for ``min_danger_minutes`` raises ``flood_danger``. Its rules are this service's
assumption, not the programme's (``config/rules.yaml``, ``kinds.water_level``).
"""

from bantar.kinds.water_level.plugin import PLUGIN

__all__ = ["PLUGIN"]
