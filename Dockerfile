# The dr-runbooks worker, as docker-compose.yml runs it next to a production-like Temporal.
FROM node:20-bookworm-slim
# pgBackRest and the PostgreSQL client tools run restores on the worker's host in the local platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pgbackrest postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
USER node
ENV NODE_ENV=production DR_TASK_QUEUE=dr-runbooks
CMD ["node", "--import", "tsx", "worker/main.ts"]
