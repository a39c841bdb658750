# hanbao container image: a static-ish release binary on a slim Debian base.
# Built with nothing downloaded at build time besides crates: SQLite, libpq and OpenSSL are compiled from source.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY config config
RUN cargo build --release --locked --bin hanbao

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/hanbao --create-home hanbao
COPY --from=build /src/target/release/hanbao /usr/local/bin/hanbao
USER hanbao
WORKDIR /var/lib/hanbao
ENV HANBAO_DATA_DIR=/var/lib/hanbao \
    HANBAO_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["hanbao"]
CMD ["serve"]
