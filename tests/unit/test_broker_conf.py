from ingest.broker import MAX_QUEUED_MESSAGES, production_mosquitto_conf
from tests.support import REPO


def test_shipped_mosquitto_conf_is_the_rendered_one() -> None:
    shipped = (REPO / "config/mosquitto/mosquitto.conf").read_text()
    assert shipped == production_mosquitto_conf()
    assert f"max_queued_messages {MAX_QUEUED_MESSAGES}" in shipped
    assert "allow_anonymous false" in shipped
    assert "persistence true" in shipped
