"""Who may do what, where: roles, scopes and the one table that joins them. Pure.

A token has one role and one scope (an RT, a kelurahan, a kecamatan or the whole city).
``MATRIX`` says, for every action, which roles may take it and where:

- ``Where.in_scope``: the target (an RT, a device's RT, an assessment's RT, a token's scope) lies
  inside the token's scope;
- ``Where.city``: only a city-wide token (the audit log spans the whole city).

Granting is never wider than the granter: an admin creates or revokes only tokens whose scope lies
inside its own. The README prints this table (``matrix_rows``) and one parametrised test walks
every cell over HTTP. A new route adds its ``Action`` and one ``MATRIX`` row here, then checks it
with ``api.deps.require`` / ``require_rt`` (or the ``Allowed`` dependency).
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
    """issues tokens and switches devices inside its scope; posts nothing, sees no household ids"""


class ScopeLevel(StrEnum):
    rt = "rt"
    kelurahan = "kelurahan"
    kecamatan = "kecamatan"
    city = "city"


_RANK = list(ScopeLevel)
"""narrowest first"""


class Action(StrEnum):
    read_evidence = "read_evidence"
    read_private = "read_private"
    post_deposit = "post_deposit"
    post_poskamling = "post_poskamling"
    post_gotong_royong = "post_gotong_royong"
    assess = "assess"
    manage_tokens = "manage_tokens"
    manage_devices = "manage_devices"
    read_audit = "read_audit"
    keep_bank_book = "keep_bank_book"
    """members, prices, withdrawals and corrections of the RT's bank sampah"""
    read_members = "read_members"
    """members' names and phones: only the RT's operator and RT head"""
    read_own_reports = "read_own_reports"
    """the poskamling's own report history"""
    manage_checkpoints = "manage_checkpoints"
    issue_sign_in = "issue_sign_in"
    """one-time sign-in codes for the field app"""
    acknowledge_alert = "acknowledge_alert"
    """take an alert as a work item: stops its reminders and escalation"""

    @property
    def writes(self) -> bool:
        """A write: a refusal of it is audited."""
        return self not in _READS


class Where(StrEnum):
    in_scope = "in scope"
    city = "city-wide tokens only"


_READS = frozenset(
    {Action.read_evidence, Action.read_private, Action.read_audit, Action.read_members, Action.read_own_reports}
)
_ALL = frozenset(Role)
MATRIX: dict[Action, tuple[frozenset[Role], Where]] = {
    Action.read_evidence: (_ALL, Where.in_scope),
    Action.read_private: (frozenset({Role.operator, Role.rt_head, Role.assessor}), Where.in_scope),
    Action.post_deposit: (frozenset({Role.operator}), Where.in_scope),
    Action.post_poskamling: (frozenset({Role.security_post}), Where.in_scope),
    Action.post_gotong_royong: (frozenset({Role.rt_head}), Where.in_scope),
    Action.assess: (frozenset({Role.assessor}), Where.in_scope),
    Action.manage_tokens: (frozenset({Role.admin}), Where.in_scope),
    Action.manage_devices: (frozenset({Role.admin}), Where.in_scope),
    Action.read_audit: (frozenset({Role.admin}), Where.city),
    Action.keep_bank_book: (frozenset({Role.operator}), Where.in_scope),
    Action.read_members: (frozenset({Role.operator, Role.rt_head}), Where.in_scope),
    Action.read_own_reports: (frozenset({Role.security_post, Role.rt_head}), Where.in_scope),
    Action.manage_checkpoints: (frozenset({Role.rt_head}), Where.in_scope),
    Action.issue_sign_in: (frozenset({Role.rt_head, Role.admin}), Where.in_scope),
    Action.acknowledge_alert: (frozenset({Role.rt_head, Role.assessor}), Where.in_scope),
}
"""role x action x scope, decided once: who may take each action, and where"""

BACKDATE_DAYS: dict[Role, int] = {Role.rt_head: 31}
"""roles allowed to post further into the past than the configured default (gotong royong is often
reported after the month's meeting)"""


def matrix_rows() -> list[str]:
    """The matrix as a Markdown table (printed in the README; a test keeps the two equal)."""
    head = "| action | " + " | ".join(r.value for r in Role) + " |"
    rows = [head, "|---|" + "---|" * len(Role)]
    for action, (roles, where) in MATRIX.items():
        cells = [where.value if role in roles else "—" for role in Role]
        rows.append(f"| `{action.value}` | " + " | ".join(cells) + " |")
    return rows


class Principal(BaseModel):
    """The identity behind a request: never the token itself."""

    model_config = ConfigDict(frozen=True)

    token_id: str
    name: str = Field(max_length=80)
    role: Role
    scope_level: ScopeLevel
    scope_code: str | None = None

    def may(self, action: Action) -> bool:
        """The role allows the action somewhere (where: ``covers`` / ``reaches``)."""
        roles, where = MATRIX[action]
        return self.role in roles and (where is Where.in_scope or self.scope_level is ScopeLevel.city)

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

    def reaches(self, registry: RegistryIndex, level: ScopeLevel, code: str | None) -> bool:
        """Does a scope (of a token to create or revoke) lie wholly inside this one, at this level or
        below (a kecamatan holding one kelurahan today is still wider than that kelurahan)?"""
        if self.scope_level is ScopeLevel.city:
            return True
        if _RANK.index(level) > _RANK.index(self.scope_level):
            return False
        places = [registry.rts[c] for c in registry.rts_in(level.value, code)]
        return self.covers_area(level.value, code, places)


def scope_problem(registry: RegistryIndex, level: ScopeLevel, code: str | None) -> str | None:
    """Why a token scope is invalid (one sentence), or None when it names a real area."""
    if level is ScopeLevel.city:
        return "a city scope takes no code" if code is not None else None
    if not registry.rts_in(level.value, code):
        return f"scope code {code!r} is not a {level.value} in the registry"
    return None
