"""``bantar signin``: one-time sign-in links for the field app (operators, security posts, RT heads)."""

from __future__ import annotations

from datetime import datetime

import click

from api.routes.sign_in import sign_in_link
from bantar.domain.access import Role, ScopeLevel, scope_problem
from bantar.domain.timebase import WIB
from shell.cli_common import services_session, settings_or_exit


@click.group()
def signin() -> None:
    """One-time sign-in links for the field app: a phone exchanges one for its own token, once."""


@signin.command("create")
@click.option("--name", required=True, help="who will hold the phone")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--rt", "rt_code", required=True, help="the RT code the phone works for")
@click.option("--base-url", default="http://127.0.0.1:8080", show_default=True, help="where phones reach `bantar api`")
def signin_create(name: str, role: str, rt_code: str, base_url: str) -> None:
    """Issue a link (print it or show it as a QR code); it works once and expires after 7 days.
    Lock a phone out later with `bantar token revoke ID` (`bantar signin list` shows its token)."""
    with services_session(settings_or_exit()) as services:
        problem = scope_problem(services.registry, ScopeLevel.rt, rt_code)
        if problem:
            raise click.BadParameter(problem, param_hint="--rt")
        code_id, code = services.app_db.create_sign_in_code(name, Role(role), ScopeLevel.rt, rt_code, "cli")
        services.app_db.audit(
            None, "sign_in_code_create", code_id, {"role": role, "scope": "rt", "scope_code": rt_code}, "cli"
        )
    click.echo(f"sign-in link {code_id} ({role}, RT {rt_code}) for {name}:\n{sign_in_link(base_url, code)}")


@signin.command("list")
def signin_list() -> None:
    """Sign-in codes: unused, or used and by which token (revoke that token to lock the phone out)."""
    with services_session(settings_or_exit()) as services:
        for c in services.app_db.sign_in_codes():
            used = f"used, token {c.token_id}" if c.used_ms else "unused until " + _day(c.expires_ms)
            click.echo(f"{c.id}  {c.role.value:<13} rt:{c.scope_code or '-':<16} {used:<22} {c.name}")


def _day(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=WIB).strftime("%Y-%m-%d")
