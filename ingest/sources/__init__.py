"""Sources: devices that speak their own formats (LoRaWAN network servers, Tasmota, ESPHome,
cameras), declared in ``config/sources.yaml`` and mapped to readings of registered devices.

``config`` reads and validates the file; ``formats`` turns one MQTT message into an
``Observation``; ``decoders`` reads raw LoRaWAN payloads of the bin sensors; ``sequencing``
gives counter-less and resetting devices unique sequence numbers; ``translate`` maps an
observation to readings of the registered device it names.
"""
