# The project's one image: its entrypoint is the perfpilot command, and the subcommand picks the
# process (`risk-api`, or `operator` when run by hand). Node.js 24 runs the TypeScript sources
# directly (type stripping); the operator's Deployment runs the operator's bundle instead
# (`node dist/operator.js`, built here by rolldown: rolldown.config.ts), which starts faster and
# holds less memory. The image carries sources, the bundle and production dependencies only.
# Build: docker build -t ghcr.io/perfpilot/perfpilot:0.1.0 .
# Without Docker, from Debian's packages: scripts/build-image.sh --out DIR builds the same /app
# (its COPY lines are read from this file; scripts/image-tree.ts checks the result).
# Stage 1: production dependencies, installed from the lock file.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Stage 2: the operator's bundle, from every dependency (rolldown is a development one).
FROM node:24.21.0-bookworm-slim AS bundle
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY rolldown.config.ts tsconfig.json ./
COPY cli ./cli
COPY operator/src ./operator/src
RUN npx rolldown -c rolldown.config.ts

# Stage 3: runtime, as a non-root numeric user (Pod Security "restricted" needs runAsNonRoot).
FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY operator/src ./operator/src
COPY risk-api/src ./risk-api/src
COPY charts-ts/src ./charts-ts/src
# The simulator's benchmark and standard traces, for `perfpilot simulate` (.dockerignore keeps only these).
COPY bench ./bench
COPY --from=bundle /app/dist/operator.js ./dist/operator.js
USER 10001:10001
# 8080: the operator's /metrics (HTTPS); 8081: its /healthz and /readyz; 8001: the risk API.
EXPOSE 8080 8081 8001
ENTRYPOINT ["node", "bin/perfpilot.js"]
CMD ["operator"]
