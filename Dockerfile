# One image for the four services and the migrations; compose picks what a container runs
# (`crm serve <service>`, `crm migrate`), so the CMD here only prints the usage.
# The base image by exact version: Python 3.11 as pyproject.toml requires, on Debian 12
# (bookworm) as the development machines. A tag can still be re-pushed (Debian's security
# fixes are, under the same tag); only a digest names one image for good. None is written
# here because Docker Hub could not be reached when the version was chosen. From a
# machine that reaches it, read the digest and pin `FROM python:3.11.17-slim-bookworm@sha256:…`:
#   docker buildx imagetools inspect python:3.11.17-slim-bookworm --format '{{.Manifest.Digest}}'
# (the index digest, good for every architecture), and renew it with each Python patch release.
FROM python:3.11.17-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml requirements-runtime.lock ./
COPY contracts ./contracts
COPY shared ./shared
COPY services ./services
COPY crm ./crm
# The runtime dependencies at the versions of development and CI, every file checked against
# the lock's hashes (`make runtime-lock`), the build backend among them; then the project
# itself, built with that backend and nothing fetched; `pip check` fails the build if the lock
# lacks a dependency the project declares. A regular (non-editable) install, migrations
# included, so the sources are not needed afterwards and cannot shadow it.
RUN pip install --no-cache-dir --require-hashes -r requirements-runtime.lock \
    && pip install --no-cache-dir --no-deps --no-build-isolation . \
    && pip check \
    && rm -rf /src \
    && groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --create-home --home-dir /home/crm crm

# Numeric, so that an orchestrator can tell the user is not root (runAsNonRoot).
USER 10001:10001
WORKDIR /home/crm
# Ports 8001-8004, one per service; compose maps the one a container serves.
EXPOSE 8001 8002 8003 8004
CMD ["crm", "--help"]
