# The PRM API and worker image (same code; the command differs).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
COPY adapters ./adapters
COPY workers ./workers
COPY fhir_profiles ./fhir_profiles
# Editable, so that fhir_profiles/ is found next to the code (the loader reads it from there).
RUN pip install --no-cache-dir -e ".[speech]"
USER 1000
EXPOSE 8000
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--no-access-log"]
