# Multi-stage: dependencies are installed once, the runtime image holds no build tooling and runs
# as the unprivileged `node` user. TypeScript runs from source through tsx, as in development.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY packages/contracts/package.json packages/contracts/
COPY packages/signing/package.json packages/signing/
COPY packages/secrets/package.json packages/secrets/
COPY packages/store/package.json packages/store/
COPY packages/queue/package.json packages/queue/
COPY packages/delivery/package.json packages/delivery/
COPY packages/observability/package.json packages/observability/
COPY packages/testing/package.json packages/testing/
COPY packages/verify/package.json packages/verify/
COPY packages/client/package.json packages/client/
COPY apps/portal/package.json apps/portal/
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node . .
# The subscriber portal is static files the API serves at /portal.
RUN npm run build && chown -R node:node apps/portal/dist
USER node
EXPOSE 3000 9464
CMD ["npx", "tsx", "apps/api/src/main.ts"]
