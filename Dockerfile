FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY prompts ./prompts
COPY seeds ./seeds
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["factcheck", "serve", "--host", "0.0.0.0"]
