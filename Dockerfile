# syntax=docker/dockerfile:1
# lb-provisioner: build with the full toolchain, run with production dependencies only, as a non-root
# user. test/integration/runtime-image.test.ts replays these steps with plain npm and node commands.

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Provisioning scripts, for the `demo` command (with KUBEBUILDER_ASSETS and AWS_ENDPOINT_URL set).
COPY scripts ./scripts
# 65532: the conventional "nonroot" uid; the process needs no home and writes nothing in /app.
USER 65532:65532
ENTRYPOINT ["node", "dist/src/cli.js"]
