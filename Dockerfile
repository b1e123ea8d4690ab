# The fact-check service: `docker build -t factcheck-service .` (compose.yaml builds it too).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# A regular (not editable) install: the code lives in site-packages, not in /app.
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install . && rm -rf build service

# Data, not code: outside the package, so settings.py's checkout-relative defaults would
# point into site-packages. Name the folders instead.
COPY prompts ./prompts
COPY seeds ./seeds
ENV FACTCHECK_PROMPTS_DIR=/app/prompts \
    FACTCHECK_SEED_DIR=/app/seeds \
    FACTCHECK_HOST=0.0.0.0 \
    FACTCHECK_PORT=8000 \
    FACTCHECK_LOG_FORMAT=json \
    FACTCHECK_DATABASE_URL=sqlite+aiosqlite:////data/factcheck.db

# Never root; /data is the one writable place (SQLite when no PostgreSQL is configured).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin factcheck \
    && mkdir /data && chown factcheck /data
USER factcheck
WORKDIR /data

EXPOSE 8000
# Ready = database reachable and migrated (the port is FACTCHECK_PORT's default above).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
CMD ["factcheck", "serve"]
