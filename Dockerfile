# syntax=docker/dockerfile:1.7
# One image for every Prometeo service; the command picks the service:
#   docker run prometeo python -m feature_store
# (compose and the Helm chart set the command; the default runs the gateway).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first, from pyproject alone, so a code change does not rebuild this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip wheel --wheel-dir /wheels -r requirements.txt
COPY libs ./libs
COPY tools ./tools
COPY services ./services
# No extras: the runtime image carries neither test tools nor the embedded dev broker.
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed numeric uid lets Kubernetes verify runAsNonRoot; /data is where the MLflow
# container keeps its sqlite store (named volumes inherit this ownership).
RUN groupadd --system --gid 10001 prometeo \
    && useradd --system --uid 10001 --gid prometeo --home-dir /home/prometeo --create-home prometeo \
    && install -d -o prometeo -g prometeo /data
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels prometeo
USER 10001:10001
WORKDIR /home/prometeo
EXPOSE 8000 8001 8002 8003 8004 8005
CMD ["python", "-m", "gateway"]
