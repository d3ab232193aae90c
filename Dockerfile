# Trunkline API server. Build: docker build -t trunkline .   Run: docker run -p 8000:8000 trunkline
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/trunkline
COPY pyproject.toml README.md ./
COPY app ./app
COPY schema ./schema
COPY resolvers ./resolvers
COPY models ./models
COPY providers ./providers
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --create-home trunkline

# The default SQLite database and the sandbox key file live in /data (mount a volume to keep them).
USER trunkline
WORKDIR /data
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"

CMD ["trunkline", "serve", "--host", "0.0.0.0", "--port", "8000"]
