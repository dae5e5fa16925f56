# refmatch in a container: built in one stage, run from a small one.
#   docker build --build-arg REFMATCH_COMMIT=$(git rev-parse --short=12 HEAD) -t refmatch .
#   docker run -d -p 8080:8080 -v refmatch-data:/data refmatch
#   docker exec <container> refmatch keys create --name admin
# The database lives on the /data volume; migrations run when the server starts.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
# .git is not sent to the build (.dockerignore): the commit comes as a build argument.
ARG REFMATCH_COMMIT=unknown
ENV REFMATCH_COMMIT=${REFMATCH_COMMIT}
COPY . .
RUN cargo build --release --locked --bin refmatch \
    && strip target/release/refmatch \
    && target/release/refmatch --version

FROM debian:bookworm-slim
# The binary links only glibc (SQLite is compiled in); no shell tools are needed, and
# the health check is the binary's own.
RUN groupadd --system --gid 10001 refmatch \
    && useradd --system --uid 10001 --gid refmatch --home-dir /data --shell /usr/sbin/nologin refmatch \
    && mkdir /data && chown refmatch:refmatch /data
COPY --from=build /src/target/release/refmatch /usr/local/bin/refmatch
USER refmatch:refmatch
WORKDIR /data
VOLUME ["/data"]
ENV REFMATCH_DB=/data/refmatch.db
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["refmatch", "healthcheck", "--addr", "127.0.0.1:8080"]
# SIGTERM stops the server gracefully (the running run is re-queued, the database closed).
STOPSIGNAL SIGTERM
ENTRYPOINT ["refmatch"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
