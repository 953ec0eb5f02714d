# One image for the four services and the migrations; compose picks what a container runs
# (`crm serve <service>`, `crm migrate`), so the CMD here only prints the usage.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml requirements.lock ./
COPY contracts ./contracts
COPY shared ./shared
COPY services ./services
COPY crm ./crm
# The same pins as development and CI; a regular (non-editable) install, migrations included,
# so the sources are not needed afterwards and cannot shadow the installed packages.
RUN pip install -c requirements.lock . \
    && rm -rf /src \
    && groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --create-home --home-dir /home/crm crm

# Numeric, so that an orchestrator can tell the user is not root (runAsNonRoot).
USER 10001:10001
WORKDIR /home/crm
# Ports 8001-8004, one per service; compose maps the one a container serves.
EXPOSE 8001 8002 8003 8004
CMD ["crm", "--help"]
