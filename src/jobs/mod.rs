//! Periodic work: the notice tick (reminders, escalations) and the delivery of the outbox.

pub mod delivery;
pub mod scheduler;
