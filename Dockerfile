# modelgate as a container: `docker build -t modelgate .`, then see "Deploying anywhere else" in the README.
# Three stages: the production dependencies alone, a build with every dependency (tsc), and the image,
# which gets the first's node_modules and the second's dist/. No TypeScript, tsx or test tools ship.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 fetches its prebuilt binary at install; DuckDB's and the canvas's come as npm packages.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs scripts/
COPY src src
RUN npm run build

FROM node:20-slim
ENV NODE_ENV=production \
    PORT=3000 \
    MODELGATE_DB=/data/modelgate.db
WORKDIR /app
COPY package.json ./
# The example policy: the sandbox's default (read relative to dist/, from the package root).
COPY modelgate.example.yml ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
# The SQLite store lives on a volume the unprivileged user owns.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
# node itself as PID 1: the bot handles SIGTERM and SIGINT (stops its schedule, Bolt and the store).
CMD ["node", "dist/main.js"]
