"""What the Airflow DAG files import: Assets, the shared DAG arguments and the failure alert."""
