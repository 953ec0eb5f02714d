# One image for the four services; compose picks the service with `crm serve <service>`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY shared ./shared
COPY services ./services
COPY crm ./crm
RUN pip install --no-cache-dir -c requirements.lock . \
    && useradd --system --uid 10001 --no-create-home crm

USER crm
# Ports 8001-8004, one per service; compose maps the one a container serves.
EXPOSE 8001 8002 8003 8004
CMD ["crm", "--help"]
