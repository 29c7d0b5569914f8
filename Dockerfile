# syntax=docker/dockerfile:1
# chorus-tui as a container: a headless node that serves /metrics and /healthz.
#
#   docker build -t chorus-tui .
#   docker run --rm chorus-tui                        the default command below
#   docker run --rm -it chorus-tui --observe --join ...   any other flags replace it (here: the
#                                                      UI, watching a mesh without pulling on it)
#
# Three stages: `build` compiles the TypeScript (the app and the workspace package
# @chorus-tui/zmtp), `deps` installs the production dependencies only, and the runtime copies
# their results into a slim image that holds no compiler, no sources, no tests and no keys.
# CURVE keys and allow files are mounted at run time (see deploy/), never baked in.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages/zmtp/package.json packages/zmtp/tsconfig.json packages/zmtp/tsconfig.build.json packages/zmtp/
# --ignore-scripts: `prepare` would build before the sources are here, and zeromq ships its
# prebuilt addon in the package, so its install script has nothing to fetch.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/zmtp/src packages/zmtp/src
COPY source source
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/zmtp/package.json packages/zmtp/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# A user of its own, by number, so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 chorus \
	&& useradd --system --uid 10001 --gid chorus --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin chorus
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/packages/zmtp/dist packages/zmtp/dist
COPY packages/zmtp/package.json packages/zmtp/
COPY --from=build /src/dist dist
COPY package.json ./
USER 10001:10001
# 5555: the data plane (ZeroMQ PUB). 9464: /metrics and /healthz (Prometheus' default exporter port range).
EXPOSE 5555 9464
# No curl in a slim image: Node's own fetch asks /healthz (200 while the node ticks on time).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
	CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
# A container's address is its own network's: binding 0.0.0.0 is what lets the other containers in,
# and --advertise <name> is how others (and a CURVE allow file) know it (deploy/ does both).
# Without CURVE the node says so on stderr (the exposure warning); deploy/ turns CURVE on.
# --demo 0: a container is one node, never a swarm of local demo processes.
CMD ["--headless", "--demo", "0", "--bind", "tcp://0.0.0.0:5555", "--metrics", "0.0.0.0:9464"]
