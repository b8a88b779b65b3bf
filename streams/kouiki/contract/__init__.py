"""Report contract v1: JSON Schemas, document reading and validation with located errors."""
