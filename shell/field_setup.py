"""Ready sign-ins for the field app (``bantar demo``): a bank sampah operator and a security
post of one RT, with a starter price list and three patrol checkpoints when the RT has none, so
the app can be tried at once."""

from __future__ import annotations

from api.routes.sign_in import sign_in_link
from bantar.domain.access import Role, ScopeLevel
from bantar.domain.bank_sampah import Price
from bantar.domain.readings import Material
from bantar.domain.timebase import utc_now, wib_day
from bantar.domain.topics import DeviceKind
from bantar.services import Services
from bantar.stores.field_records import Checkpoint

STARTER_PRICES = {
    Material.plastic: 3000,
    Material.paper: 1500,
    Material.metal: 5000,
    Material.glass: 500,
    Material.organic: 300,
    Material.other: 200,
}
"""Rupiah per kg, in the range Jambi's bank sampah pay; the operator changes them in the app"""
STARTER_CHECKPOINTS = ("Gerbang masuk", "Masjid", "Ujung gang")


def demo_rt(services: Services) -> str:
    """The first RT with both a bank sampah scale and a poskamling device (else the first RT)."""
    for code in services.registry.rts:
        kinds = {d.kind for d in services.registry.devices_in(code)}
        if {DeviceKind.bank_sampah, DeviceKind.poskamling} <= kinds:
            return code
    return next(iter(services.registry.rts))


def field_app_lines(services: Services, base_url: str) -> str:
    """Issue one-time sign-in links for the demo RT's operator and security post."""
    rt = demo_rt(services)
    field = services.app_db.field
    if not field.prices(rt):
        today = wib_day(utc_now())
        for material, idr in STARTER_PRICES.items():
            field.set_price(rt, Price(material=material, price_idr_per_kg=idr, valid_from=today))
    if not field.checkpoints(rt):
        for number, label in enumerate(STARTER_CHECKPOINTS, start=1):
            field.add_checkpoint(rt, Checkpoint(id=f"cp-{number}", label=label))
    lines = [f"field app {base_url}/app/ — one-time sign-in links for RT {rt} (open on a phone):"]
    for role, name in ((Role.operator, "operator bank sampah"), (Role.security_post, "pos ronda")):
        _, code = services.app_db.create_sign_in_code(f"{name} (demo)", role, ScopeLevel.rt, rt, "demo")
        lines.append(f"  {name:<21} {sign_in_link(base_url, code)}")
    return "\n".join(lines)
