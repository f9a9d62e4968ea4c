"""Is the service up? Public and cheap: no token, no table scan (counts are in ``bantar stats``
and behind a token)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServicesDep

router = APIRouter(prefix="/api/v1", tags=["health"])


class Health(BaseModel):
    status: str
    rts: int
    devices: int


@router.get("/health", response_model=Health, summary="Is the service up (public; reads no table)")
def health(services: ServicesDep) -> Health:
    return Health(status="ok", rts=len(services.registry.rts), devices=len(services.registry.devices))
