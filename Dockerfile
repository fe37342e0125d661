# The project's one image: its entrypoint is the perfpilot command, and the subcommand picks the
# process (`operator`, the default, or `risk-api`). Node.js 24 runs the TypeScript sources directly
# (type stripping), so the image carries sources and production dependencies only.
# Build: docker build -t ghcr.io/perfpilot/perfpilot:0.1.0 .
# Stage 1: production dependencies, installed from the lock file.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Stage 2: runtime, as a non-root numeric user (Pod Security "restricted" needs runAsNonRoot).
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
USER 10001:10001
# 8080: the operator's /metrics and probes; 8001: the risk API.
EXPOSE 8080 8001
ENTRYPOINT ["node", "bin/perfpilot.js"]
CMD ["operator"]
