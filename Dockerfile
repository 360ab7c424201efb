# jubao in a container: the wheel (grammar, templates, static files, migrations and the bundled policies are
# package data), a non-root user, the SQLite decision log and policy store on the /data volume.
# tests/test_package.py runs these same commands (build the wheel, pip install it, jubao serve) outside a
# container on every CI run; this file is not built there (no container runtime).
#   docker build -t jubao . && docker run -p 8000:8000 -v jubao-data:/data jubao
# The full image has the C compiler setup.py's Cython build needs (the engine's hot path compiled); the
# slim runtime below needs none: the wheel carries the compiled modules.
FROM python:3.11 AS wheel
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir "build>=1.0" && python -m build --wheel --outdir /dist .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 jubao && mkdir /data && chown jubao /data
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/*.whl && rm -rf /tmp/dist
USER jubao
WORKDIR /home/jubao
ENV JUBAO_DATA_DIR=/data
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
CMD ["jubao", "serve", "--host", "0.0.0.0", "--port", "8000"]
