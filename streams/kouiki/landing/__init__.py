"""The consumer side: land the topics into the raw lake exactly once, dead-letter what fails, report status."""
