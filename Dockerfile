# One image for every MTD Graph service; the command picks the service.

# The admin console's static build (Vite is a dev dependency; no install scripts needed for it).
FROM node:20-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY console ./console
COPY bin/build-console.ts ./bin/
RUN npx tsx bin/build-console.ts

FROM node:20-bookworm-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `prepare` runs bin/build-console.ts, which skips the build without dev dependencies.
COPY bin/build-console.ts ./bin/
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=console /app/console/dist ./console/dist
COPY bin ./bin
COPY lib ./lib
COPY gateway ./gateway
COPY subgraphs ./subgraphs
COPY schema ./schema
ENV NODE_ENV=production
USER node
