# The clinic app for docker compose: one image for web, worker and beat.
# Assets come from the npm registry in a build stage; nothing from a CDN.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=clinic.settings.production
WORKDIR /app
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir -r requirements/base.lock
COPY . .
COPY --from=assets /app/node_modules node_modules
# collectstatic reads settings only: throw-away values satisfy the production checks.
# var/media exists and is the app user's, so the named volume mounted there (compose)
# starts with that owner and photos can be written to it.
RUN SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    DATABASE_URL=postgres://build@localhost:5432/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 clinic && mkdir -p var/media && chown -R clinic var
USER clinic
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--preload", "--access-logfile", "-", "--logger-class", "clinic.gunicorn_logging.RedactingLogger"]
