"""The raw lake on disk: offset-named Parquet files, and the registry as landed there."""
