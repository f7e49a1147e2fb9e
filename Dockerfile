# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY handlers ./handlers
COPY storage ./storage
RUN python -m venv /venv && /venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/tsur.sqlite3 VK_STATE_DIR=/data/vk WEB_HOST=0.0.0.0 WEB_PORT=8080
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tsur \
    && mkdir -p /data /app && chown tsur /data /app
COPY --from=build /venv /venv
# Locales are read from the project root next to the packages.
COPY --chown=tsur locales /venv/lib/python3.11/site-packages/locales
WORKDIR /app
USER tsur
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["python", "-m", "bot", "run"]
