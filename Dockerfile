# Image of the Cloud Run snapshot job (infra/run_job.tf): the same code as the functions, with
# git for the restore/verify paths. Build with Cloud Build (docs/DEPLOY.md, step 7).
FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && apt-get purge -y python3 make g++ && apt-get autoremove -y
COPY . .
USER node
CMD ["node", "bin/infinity-backup.mjs", "job", "snapshot"]
