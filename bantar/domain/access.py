"""Who may do what, where: roles, scopes and the rules that join them. Pure.

A token has one role and one scope (an RT, a kelurahan, a kecamatan or the whole city). Reading
evidence needs the RT inside the scope; private data (household ids) and posting need the role
that owns that kind of post, inside the scope; managing tokens and reading the audit log need
admin.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bantar.domain.registry import RegistryIndex, RTPlace


class Role(StrEnum):
    operator = "operator"
    """bank sampah operator: posts deposits"""
    security_post = "security_post"
    """poskamling: posts shift reports and incidents"""
    rt_head = "rt_head"
    """ketua RT: posts gotong royong events, reads the RT's private data"""
    assessor = "assessor"
    """city agencies (DLH, DPMPPA, Babinsa, Bhabinkamtibmas, puskesmas): read, assess"""
    admin = "admin"


class ScopeLevel(StrEnum):
    rt = "rt"
    kelurahan = "kelurahan"
    kecamatan = "kecamatan"
    city = "city"


class Action(StrEnum):
    read_evidence = "read_evidence"
    read_private = "read_private"
    post_deposit = "post_deposit"
    post_poskamling = "post_poskamling"
    post_gotong_royong = "post_gotong_royong"
    assess = "assess"
    acknowledge_alert = "acknowledge_alert"
    administer = "administer"


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.operator: frozenset({Action.read_evidence, Action.read_private, Action.post_deposit}),
    Role.security_post: frozenset({Action.read_evidence, Action.post_poskamling}),
    Role.rt_head: frozenset(
        {Action.read_evidence, Action.read_private, Action.post_gotong_royong, Action.acknowledge_alert}
    ),
    Role.assessor: frozenset({Action.read_evidence, Action.read_private, Action.assess, Action.acknowledge_alert}),
    Role.admin: frozenset(Action),
}


class Principal(BaseModel):
    """The identity behind a request: never the token itself."""

    model_config = ConfigDict(frozen=True)

    token_id: str
    name: str = Field(max_length=80)
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None = None

    def may(self, action: Action) -> bool:
        return action in ALLOWED[self.role]

    def covers(self, place: RTPlace) -> bool:
        match self.scope_level:
            case ScopeLevel.city:
                return True
            case ScopeLevel.kecamatan:
                return place.kecamatan_code == self.scope_code
            case ScopeLevel.kelurahan:
                return place.kelurahan_code == self.scope_code
            case ScopeLevel.rt:
                return place.rt.code == self.scope_code

    def covers_area(self, level: str, code: str | None, places: list[RTPlace]) -> bool:
        """May this principal see a whole area (the city, a kecamatan or a kelurahan)?"""
        if self.scope_level is ScopeLevel.city:
            return True
        return bool(places) and all(self.covers(p) for p in places)


def scope_problem(registry: RegistryIndex, level: ScopeLevel, code: str | None) -> str | None:
    """Why a token scope is invalid (one sentence), or None when it names a real area."""
    if level is ScopeLevel.city:
        return "a city scope takes no code" if code is not None else None
    if not registry.rts_in(level.value, code):
        return f"scope code {code!r} is not a {level.value} in the registry"
    return None
