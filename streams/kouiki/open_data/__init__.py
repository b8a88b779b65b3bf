"""Open data: quarterly snapshots of the public marts of the serving file, as CSV (UTF-8 with BOM,
for Excel) and Parquet, described by a Frictionless Data Package and sealed by a SHA-256 manifest.
A snapshot, once complete, is never written again."""
