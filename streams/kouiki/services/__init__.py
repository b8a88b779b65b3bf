"""The local platform's services (broker, Airflow, Superset) and the processes that run them."""
