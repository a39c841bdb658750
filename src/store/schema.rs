//! Diesel's view of the tables in `migrations/` (kept by hand: the two migration trees share one schema).

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    units (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<BigInt>,
        time_zone -> Text,
        language -> Text,
        contacts -> Text,
        valid_from -> Nullable<Date>,
        valid_until -> Nullable<Date>,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        address -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    unit_successions (id) {
        id -> BigInt,
        predecessor_id -> BigInt,
        successor_id -> BigInt,
        kind -> Text,
        effective_on -> Date,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    plans (id) {
        id -> BigInt,
        number -> Text,
        title -> Text,
        issuer_id -> Nullable<BigInt>,
        coordinator_id -> BigInt,
        issued_on -> Nullable<Date>,
        starts_on -> Date,
        ends_on -> Date,
        source_url -> Nullable<Text>,
        text -> Nullable<Text>,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        filing_instructions -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    calendars (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    calendar_days (calendar_id, day) {
        calendar_id -> BigInt,
        day -> Date,
        kind -> Text,
        name -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_years (calendar_id, year) {
        calendar_id -> BigInt,
        year -> Integer,
        complete -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    obligations (id) {
        id -> BigInt,
        plan_id -> BigInt,
        title -> Text,
        recipient_id -> BigInt,
        reporters -> Text,
        schedule -> Text,
        grace -> Text,
        reminders -> Text,
        escalation -> Text,
        form -> Nullable<Text>,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        wording -> Nullable<Text>,
        notes -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    events (id) {
        id -> BigInt,
        obligation_id -> BigInt,
        name -> Text,
        ended_on -> Date,
        units -> Nullable<Text>,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    deadlines (id) {
        id -> BigInt,
        obligation_id -> BigInt,
        unit_id -> BigInt,
        period -> Text,
        event_id -> Nullable<BigInt>,
        last_day -> Date,
        due_at -> UtcTimestamp,
        state -> Text,
        submitted_at -> Nullable<UtcTimestamp>,
        extended_reason -> Nullable<Text>,
        waived_reason -> Nullable<Text>,
        created_at -> UtcTimestamp,
        updated_at -> UtcTimestamp,
        next_notice_at -> Nullable<UtcTimestamp>,
        submitted_on -> Nullable<Date>,
        notices_sent -> Integer,
        recipient_id -> Nullable<BigInt>,
        waived_at -> Nullable<UtcTimestamp>,
        extended_at -> Nullable<UtcTimestamp>,
        first_due_at -> Nullable<UtcTimestamp>,
        revision -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    tokens (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        unit_id -> Nullable<BigInt>,
        prefix -> Text,
        secret_hash -> Text,
        created_at -> UtcTimestamp,
        last_used_at -> Nullable<UtcTimestamp>,
        revoked_at -> Nullable<UtcTimestamp>,
        expires_at -> Nullable<UtcTimestamp>,
        kind -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    submissions (id) {
        id -> BigInt,
        deadline_id -> BigInt,
        unit_id -> BigInt,
        version -> Integer,
        payload -> Text,
        note -> Nullable<Text>,
        received_at -> UtcTimestamp,
        on_time -> Bool,
        filed_by -> Text,
        on_behalf -> Bool,
        review_decision -> Nullable<Text>,
        review_comment -> Nullable<Text>,
        reviewed_by -> Nullable<Text>,
        reviewed_at -> Nullable<UtcTimestamp>,
        received_on -> Nullable<Date>,
        document_ref -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    idempotency_keys (actor, key) {
        actor -> Text,
        key -> Text,
        request_hash -> Text,
        response_status -> Integer,
        response_body -> Text,
        created_at -> UtcTimestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    audit_log (id) {
        id -> BigInt,
        at -> UtcTimestamp,
        actor -> Text,
        action -> Text,
        entity -> Text,
        entity_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    outbox (id) {
        id -> BigInt,
        dedupe_key -> Text,
        message_id -> Text,
        recipients -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> UtcTimestamp,
        lease_until -> Nullable<UtcTimestamp>,
        last_error -> Nullable<Text>,
        created_at -> UtcTimestamp,
        sent_at -> Nullable<UtcTimestamp>,
        sender_name -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    job_claims (job, slot) {
        job -> Text,
        slot -> Text,
        claimed_at -> UtcTimestamp,
    }
}

diesel::table! {
    obligation_recipients (obligation_id, from_day) {
        obligation_id -> BigInt,
        from_day -> Date,
        recipient_id -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::types::UtcTimestamp;

    sessions (id_hash) {
        id_hash -> Text,
        token_id -> Nullable<BigInt>,
        admin_digest -> Nullable<Text>,
        csrf -> Text,
        created_at -> UtcTimestamp,
        last_seen_at -> UtcTimestamp,
        expires_at -> UtcTimestamp,
    }
}

diesel::joinable!(plans -> units (coordinator_id));
diesel::joinable!(obligations -> plans (plan_id));
diesel::joinable!(deadlines -> obligations (obligation_id));
diesel::joinable!(deadlines -> units (unit_id));
diesel::joinable!(submissions -> deadlines (deadline_id));
diesel::joinable!(calendar_days -> calendars (calendar_id));
diesel::joinable!(events -> obligations (obligation_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_successions,
    plans,
    calendars,
    calendar_days,
    calendar_years,
    obligations,
    obligation_recipients,
    events,
    deadlines,
    tokens,
    submissions,
    idempotency_keys,
    audit_log,
    outbox,
    job_claims,
    sessions,
);
