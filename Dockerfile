# oneapi-mcp as a container: `make image` (see deploy/README.md).
#
# Two stages on one Debian base with python3 (no registry needed: deploy/base-image.sh debootstraps it;
# any Debian bookworm image with python3 and python3-venv works as BASE too):
#   build  - a virtualenv in /opt/oneapi-mcp with this package installed from the source tree
#   final  - that virtualenv copied onto the bare base: no pip, no build tools, no compiler
# At run time the root file system can be read-only: everything written (schedules, SIEM outbox,
# audit log) goes under /data, one mounted volume; bytecode is compiled at build time.
ARG BASE=localhost/oneapi-mcp-base:bookworm

FROM ${BASE} AS build
ARG EXTRAS=""
# A CA bundle for reaching PyPI through a TLS-inspecting proxy (`make image` mounts the host's); build stage only.
ARG CA_BUNDLE=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/oneapi-mcp
COPY pyproject.toml README.md CHANGELOG.md /src/
COPY oneapi_mcp /src/oneapi_mcp
COPY codegen /src/codegen
COPY generated /src/generated
COPY plugins /src/plugins
# pip's cache: `make image` mounts the host's warm cache here (podman build -v); otherwise PyPI.
RUN if [ -n "$CA_BUNDLE" ]; then export PIP_CERT="$CA_BUNDLE"; fi \
 && /opt/oneapi-mcp/bin/pip install --no-compile "/src${EXTRAS:+[$EXTRAS]}" \
 && /opt/oneapi-mcp/bin/pip uninstall --yes pip \
 && /opt/oneapi-mcp/bin/python -m compileall -q -j 0 /opt/oneapi-mcp/lib

FROM ${BASE}
LABEL org.opencontainers.image.title="oneapi-mcp" \
      org.opencontainers.image.description="An MCP server for the whole Zscaler OneAPI" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/oneapi-mcp /opt/oneapi-mcp
# A fixed non-root uid/gid (Kubernetes runAsUser/fsGroup 10001); written to the files, no useradd needed.
RUN echo 'oneapi-mcp:x:10001:10001:oneapi-mcp:/data:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'oneapi-mcp:x:10001:' >> /etc/group \
 && mkdir -p /data /etc/oneapi-mcp && chown 10001:10001 /data
ENV PATH=/opt/oneapi-mcp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/data \
    XDG_DATA_HOME=/data \
    ONEAPI_MCP_AUDIT_LOG=/data/audit.jsonl
VOLUME ["/data"]
USER 10001:10001
WORKDIR /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["oneapi-mcp"]
# Client auth is required on a non-loopback bind: ONEAPI_MCP_API_KEY_HASHES, or [http] in --config.
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000", "--behind-tls-proxy"]
