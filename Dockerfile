# Conveyor server image: small (slim base, no build tools in the final stage), runs as a
# non-root user, keeps its data in a volume, and reports health with `conveyor health`.
#   docker build -t conveyor .
#   docker run -p 50051:50051 -v conveyor-data:/var/lib/conveyor conveyor
# TLS and auth: mount the files and set CONVEYOR_TLS_CERT, CONVEYOR_TLS_KEY (and
# CONVEYOR_TLS_CLIENT_CA, CONVEYOR_AUTH_FILE); set CONVEYOR_CLIENT_TLS_CA (and, for mTLS,
# CONVEYOR_CLIENT_TLS_CERT/KEY) too so the HEALTHCHECK below speaks TLS. Kubernetes:
# deploy/kubernetes (its probes use the same health service).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY broker ./broker
COPY generated ./generated
COPY clients/python ./clients/python
RUN python -m venv /opt/conveyor \
    && /opt/conveyor/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/conveyor/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/conveyor --create-home conveyor
COPY --from=build /opt/conveyor /opt/conveyor
ENV PATH=/opt/conveyor/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CONVEYOR_LISTEN=0.0.0.0:50051 \
    CONVEYOR_DATA_DIR=/var/lib/conveyor
USER conveyor
VOLUME ["/var/lib/conveyor"]
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["conveyor", "--server", "127.0.0.1:50051", "health"]
STOPSIGNAL SIGTERM
CMD ["conveyor", "serve"]
