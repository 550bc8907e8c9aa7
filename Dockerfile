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
# The demo's sandbox is compiled with the rest (the demo command names it) but not shipped below.
COPY sandbox ./sandbox
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
# glibc gives threads that allocate their own malloc arenas; the runtime's worker threads then keep tens
# of MiB resident that the process never uses again (docs/benchmarks.md). Two arenas are enough. And
# glibc raises its mmap threshold after the first large block is freed, so later large buffers (list
# pages, response bodies) land in the heap and stay resident; a fixed 128 KiB threshold returns them.
# Node keeps the code it compiled in /tmp (an emptyDir in deploy/ and the chart, so it outlives a
# container restart), and a restarted controller skips a third of its start-up; where /tmp cannot be
# written, Node silently compiles as usual.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 NODE_COMPILE_CACHE=/tmp/node-compile-cache
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
# Only what `run` (and plan, status, gc, version) needs: the controller and the providers. No sandbox,
# no provisioning scripts; `demo` says where to run it instead.
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/providers ./dist/providers
# 65532: the conventional "nonroot" uid; the process needs no home and writes nothing in /app.
USER 65532:65532
ENTRYPOINT ["node", "dist/src/cli.js"]
