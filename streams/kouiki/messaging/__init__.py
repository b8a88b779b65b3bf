"""Kafka plumbing shared by intake and landing: clients, topics and routing, watermarks and epochs."""
