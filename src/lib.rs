//! hanbao ("hạn báo cáo", reporting deadline): turns the reporting obligations of plans into per-unit
//! deadlines, reminds and escalates by email, accepts submissions through a JSON API.
//!
//! Layers (nothing points back up): `http` and `cli` → `service` (use cases, one transaction each) →
//! `domain` (pure rules) and `store` (diesel). See docs/architecture.md.

pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod service;
pub mod startup;
pub mod store;
