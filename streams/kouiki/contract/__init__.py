"""Contract v1, pure: the JSON Schemas, the msgspec model that mirrors them, the rules a schema cannot
express and bilingual violation messages. No Kafka, no files except the package's own schemas."""
