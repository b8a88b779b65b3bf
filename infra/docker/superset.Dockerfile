# Superset + duckdb-engine from the committed lock file, the Kouiki configuration and asset bundle.
# Build context: the repository root (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.9
ARG KOUIKI_UID=50000
ENV UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONUTF8=1 \
    SUPERSET_CONFIG_PATH=/opt/kouiki/infra/superset/superset_config.py \
    KOUIKI_SUPERSET_HOME=/var/lib/superset \
    FLASK_APP=superset \
    PATH=/opt/kouiki/.venv-superset/bin:$PATH

# Report and alert screenshots (superset_config.py, production mode): Debian's chromium and its driver,
# and CJK fonts so that the Japanese dashboards render in them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium chromium-driver fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && useradd --uid "${KOUIKI_UID}" --gid 0 --home-dir /var/lib/superset --create-home superset

WORKDIR /opt/kouiki
COPY requirements/superset.lock.txt requirements/
RUN uv venv --python /usr/local/bin/python3.11 .venv-superset \
 && VIRTUAL_ENV=/opt/kouiki/.venv-superset uv pip sync requirements/superset.lock.txt

COPY infra/superset/ infra/superset/
RUN .venv-superset/bin/python infra/superset/fix_ja_catalog.py
COPY superset_assets/ superset_assets/
COPY infra/docker/superset-init.sh /usr/local/bin/kouiki-superset-init
RUN chmod 0755 /usr/local/bin/kouiki-superset-init && chown -R superset:0 /var/lib/superset

USER superset
EXPOSE 8088
# Loopback by default; docker-compose.yml's superset service listens on the container's network
# (and publishes the port on the host at 127.0.0.1 only).
CMD ["gunicorn", "-w", "2", "-k", "gthread", "--threads", "4", "--timeout", "120", "-b", "127.0.0.1:8088", \
     "superset.app:create_app()"]
