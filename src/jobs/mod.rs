//! Periodic work: delivering the outbox (and, next, the reminder and escalation ticks).

pub mod delivery;
