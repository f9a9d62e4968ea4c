from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ServicesDep

router = APIRouter(prefix="/api/v1", tags=["health"])


class Health(BaseModel):
    status: str
    readings: int
    dead_letters: int
    rts: int
    devices: int


@router.get("/health", response_model=Health, summary="Is the service up, and what does the store hold")
def health(services: ServicesDep) -> Health:
    counts = services.store.counts()
    return Health(
        status="ok",
        readings=counts.readings,
        dead_letters=counts.dead_letters,
        rts=len(services.registry.rts),
        devices=len(services.registry.devices),
    )
