# One image for web, worker and beat. Build tools stay in the build stages.
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json ./
RUN npm install --no-audit --no-fund

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml ./
COPY . .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir .

FROM python:3.12-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=app:app . .
COPY --from=assets --chown=app:app /src/node_modules/govuk-frontend/dist /app/node_modules/govuk-frontend/dist
# collectstatic needs production settings but no real secrets or services
RUN PRODUCTION=true SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    ALLOWED_HOSTS=build EMAIL_URL=consolemail:// STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput
ENV STATIC_ROOT=/app/staticfiles
USER app
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && gunicorn config.wsgi --bind 0.0.0.0:8000 --workers 4"]
