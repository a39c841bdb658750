//! hanbao's integration tests: one binary that starts the real server on port 0 against a fresh database.
//!
//! Every database test runs twice, on SQLite (a temp file) and on PostgreSQL (a fresh database on the server
//! named by HANBAO_TEST_POSTGRES_URL; without it the PostgreSQL half says it was skipped).

mod helpers;

mod architecture;
mod browser;
mod cli;
mod compliance;
mod concurrency;
mod errors;
mod exports;
mod feeds;
mod health;
mod letters;
mod mail;
mod notices;
mod obligations;
mod openapi;
mod pages;
mod plans;
mod reorganisation;
mod sink;
mod smtp;
mod submissions;
mod units;
