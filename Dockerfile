# One image for web, worker and beat. (Hardening, static assets and health checks: issue 7.)
FROM python:3.12-slim
RUN useradd --create-home app
WORKDIR /app
COPY --chown=app:app . .
RUN pip install --no-cache-dir .
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "-b", "0.0.0.0:8000", "-w", "4"]
