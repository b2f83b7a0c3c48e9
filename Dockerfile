# Three stages from one set of package manifests:
#   build             every dependency, then the subscriber portal's static files (Vite);
#   production-deps   `npm ci --omit=dev`: exactly the tree the service runs, nested node_modules
#                     included (packages/delivery has its own ipaddr.js 2.x: the root's is
#                     express's 1.9.1, which lets 198.18.0.0/15 through the SSRF guard);
#   runtime           that tree, the source and the built portal; no build tooling, no devDependency.
# TypeScript runs from source through tsx (a runtime dependency of the API and the worker), as in
# development. test/image.int.test.ts reproduces these stages without Docker and runs the result.
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/portal/package.json apps/portal/
COPY packages/contracts/package.json packages/contracts/
COPY packages/signing/package.json packages/signing/
COPY packages/secrets/package.json packages/secrets/
COPY packages/verify/package.json packages/verify/
COPY packages/client/package.json packages/client/
COPY packages/store/package.json packages/store/
COPY packages/queue/package.json packages/queue/
COPY packages/publishing/package.json packages/publishing/
COPY packages/delivery/package.json packages/delivery/
COPY packages/observability/package.json packages/observability/
COPY packages/testing/package.json packages/testing/

FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM manifests AS production-deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The whole installed tree, not only /app/node_modules: npm puts a package in a workspace's own
# node_modules when the root holds another version of it.
COPY --from=production-deps --chown=node:node /app ./
COPY --chown=node:node . .
# The subscriber portal is static files the API serves at /portal.
COPY --from=build --chown=node:node /app/apps/portal/dist apps/portal/dist
USER node
EXPOSE 3000 9464
# One image for the API and the worker (docker-compose.yml runs `apps/worker/src/main.ts` with it).
# node itself, not npx: signals reach the process that handles them (graceful shutdown on SIGTERM).
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
