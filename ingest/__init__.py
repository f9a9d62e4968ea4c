"""MQTT ingestion: messages in, validated readings durably stored, then acknowledged."""
