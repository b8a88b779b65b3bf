"""dbt over the lake, publishing the serving file, source freshness and the daily quality checks."""
