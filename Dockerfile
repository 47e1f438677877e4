# syntax=docker/dockerfile:1
# The Conveyor operator image:  docker build -t conveyor:0.1.0 .
#
# Stage 1 installs the package from this checkout into a virtual environment
# (hack/image-install.sh, the same steps tests/deploy/test_image.py runs);
# stage 2 copies only that environment onto a fresh base of the same Python,
# so the environment's interpreter path stays valid. The runtime stage runs
# no command while building and needs no shell while running: the entry point
# is the `conveyor` console script, in exec form.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN ["sh", "hack/image-install.sh", "/opt/conveyor", "/src"]

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="conveyor" \
      org.opencontainers.image.description="Conveyor operator: PipelineJobs queued per Worker, run as batch/v1 Jobs" \
      org.opencontainers.image.licenses="Apache-2.0"
# Nothing is written at run time: no bytecode (it was compiled at build
# time), no home directory; the root filesystem may be read-only.
ENV PATH=/opt/conveyor/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/conveyor /opt/conveyor
# A numeric non-root user (the distroless "nonroot" UID), so that
# runAsNonRoot can be checked without a passwd entry.
USER 65532:65532
# 8080: Prometheus /metrics; 8081: kopf's /healthz (liveness, readiness).
EXPOSE 8080 8081
ENTRYPOINT ["conveyor", "operator"]
CMD ["--liveness=http://0.0.0.0:8081/healthz", "--metrics-port=8080"]
