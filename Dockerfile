# syntax=docker/dockerfile:1
# The selfheal job image (CronJob self-heal-cpt, aiops/self-heal-job.yaml).
#
#   docker build -t ghcr.io/dese-ea/selfheal:0.1.0 .
#
# BASE_IMAGE must provide python3 with the venv module (Debian: python3 and python3-venv), so an
# offline build can use a locally made base. Offline, hand pip a wheelhouse instead of an index, e.g.
#   podman build -v "$PWD/build/wheels:/wheels:ro" \
#     --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheels .
# (the wheelhouse must also hold setuptools, which builds the selfheal wheel).
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS builder
# pip reads PIP_* from the environment, and build args are visible to RUN as environment variables.
# The defaults mean "use the configured index"; "0" and "" are what pip reads as unset.
ARG PIP_NO_INDEX=0
ARG PIP_FIND_LINKS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY selfheal/ selfheal/
# A venv first (its pip comes from ensurepip, so the base needs no pip of its own), then wheels for
# selfheal and every dependency, then the install from those wheels only. pip leaves the final image.
RUN python3 -m venv /opt/selfheal \
    && /opt/selfheal/bin/python -m pip wheel --wheel-dir /tmp/wheels . \
    && /opt/selfheal/bin/python -m pip install --no-index --find-links /tmp/wheels /tmp/wheels/*.whl \
    && /opt/selfheal/bin/python -m pip uninstall --yes pip \
    && /opt/selfheal/bin/selfheal --version

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="selfheal" \
      org.opencontainers.image.description="One self-healing pass over a Kubernetes namespace" \
      org.opencontainers.image.source="https://github.com/dese-ea/selfheal"
# Fixed non-root UID/GID, matching runAsUser/runAsGroup/fsGroup in aiops/self-heal-job.yaml.
# Outputs go to /var/lib/selfheal (a PersistentVolume in the cluster) and scratch to /tmp (an emptyDir),
# so the root filesystem can be read-only: bytecode is compiled at install time, none written at run time.
ENV PATH=/opt/selfheal/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=builder /opt/selfheal /opt/selfheal
RUN mkdir -p /var/lib/selfheal/aiops /var/lib/selfheal/logs \
    && chown -R 10001:10001 /var/lib/selfheal
VOLUME ["/var/lib/selfheal"]
USER 10001:10001
WORKDIR /var/lib/selfheal
ENTRYPOINT ["selfheal"]
CMD ["run"]
