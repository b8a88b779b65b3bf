# Airflow + the kouiki package (.venv) and dbt (.venv-dbt), installed from the committed lock files.
# One image for api-server, scheduler, dag-processor, triggerer, airflow-init and kouiki_lander.
# Build context: the repository root (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.9
ARG KOUIKI_UID=50000
ENV UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PYTHONUNBUFFERED=1 \
    AIRFLOW_HOME=/opt/airflow \
    KOUIKI_DATA_DIR=/data \
    PATH=/opt/kouiki/.venv/bin:$PATH

RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && useradd --uid "${KOUIKI_UID}" --gid 0 --home-dir /opt/airflow --create-home kouiki

WORKDIR /opt/kouiki
# Dependencies first: this layer is rebuilt only when a lock file changes.
COPY requirements/ requirements/
RUN uv venv --python /usr/local/bin/python3.11 .venv \
 && VIRTUAL_ENV=/opt/kouiki/.venv uv pip sync requirements/platform.lock.txt \
 && uv venv --python /usr/local/bin/python3.11 .venv-dbt \
 && VIRTUAL_ENV=/opt/kouiki/.venv-dbt uv pip sync requirements/dbt.lock.txt

COPY pyproject.toml README.md ./
COPY streams/ streams/
COPY dbt_project/ dbt_project/
COPY dags/ dags/
# The package looks for its checkout (kouiki.config.PROJECT_FOLDERS): `kouiki superset configure` reads
# the dashboards' bundle, and the warm dbt worker lives in infra/dbt.
COPY superset_assets/ superset_assets/
COPY infra/ infra/
COPY infra/docker/airflow-init.sh /usr/local/bin/kouiki-airflow-init
# Editable, so the package finds dbt_project/ and dags/ beside it (kouiki.config.REPO_ROOT).
RUN VIRTUAL_ENV=/opt/kouiki/.venv uv pip install --no-deps -e . \
 && mkdir -p /data /opt/airflow/logs \
 && chown -R kouiki:0 /data /opt/airflow /opt/kouiki/dbt_project \
 && chmod 0755 /usr/local/bin/kouiki-airflow-init

USER kouiki
EXPOSE 8080
ENTRYPOINT ["airflow"]
CMD ["version"]
