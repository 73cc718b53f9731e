# leadroi application image; docker-compose.yml picks the component with
# `command:` (leadroi tracker | worker | api).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install .

CMD ["leadroi", "--help"]
