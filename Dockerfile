# Image of the Cloud Run snapshot job (infra/run_job.tf): the functions' compiled code, with git.
# Build with Cloud Build (docs/DEPLOY.md, step 7). The first stage compiles (TypeScript is a dev
# dependency); the image keeps dist/, bin/, config/ and the production dependencies only.
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies (with their own install scripts: better-sqlite3's native module), not yet our
# `prepare`: the sources are copied after, so that a code change reuses this layer.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY functions ./functions
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY config ./config
USER node
CMD ["node", "bin/infinity-backup.mjs", "job", "snapshot"]
