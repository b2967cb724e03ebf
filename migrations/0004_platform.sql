-- The platform the tools act on: tool calls, approvals (the human in the loop),
-- the asset catalog, connectors with their syncs and schema fingerprints,
-- canonical records, schema mappings, and agent runs. Every table is
-- tenant-owned and isolated by row-level security.

-- Every tool invocation, whatever its outcome: who, what, how long, how it ended.
create table tool_calls (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    tool            text not null,
    arguments       jsonb not null,
    actor_user_id   uuid,
    actor_key_id    uuid,
    persona         text,
    outcome         text not null check (outcome in ('ok', 'bad_args', 'denied', 'needs_approval', 'failed', 'timeout')),
    error           text,
    approval_id     uuid,
    duration_ms     integer not null,
    created_at      timestamptz not null default now()
);
create index tool_calls_tenant_idx on tool_calls (tenant_id, created_at desc);

-- A side-effecting action waiting for (or given) a human decision. `status`
-- moves pending → approved → executed | failed, or pending → rejected; a
-- pending approval past `expires_at` can no longer be decided.
create table approvals (
    id                  uuid primary key,
    tenant_id           uuid not null references tenants (id) on delete cascade,
    action              text not null,
    arguments           jsonb not null,
    arguments_hash      text not null,
    summary             text not null,
    requested_by_user   uuid,
    requested_by_key    uuid,
    decide_role         text not null check (decide_role in ('viewer', 'analyst', 'approver', 'admin')),
    status              text not null default 'pending'
                        check (status in ('pending', 'approved', 'rejected', 'executed', 'failed')),
    idempotency_key     text,
    expires_at          timestamptz not null,
    decided_by_user     uuid,
    decided_by_key      uuid,
    decided_at          timestamptz,
    comment             text check (length(comment) <= 2000),
    result              jsonb,
    error               text,
    conversation_id     uuid,
    created_at          timestamptz not null default now(),
    unique (tenant_id, idempotency_key)
);
-- Asking again for an action that already awaits a decision finds that approval.
create unique index approvals_pending_once on approvals (tenant_id, action, arguments_hash) where status = 'pending';
create index approvals_tenant_idx on approvals (tenant_id, status, created_at desc);

-- The asset catalog: tables, files and applications found by discovery.
create table assets (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    kind            text not null check (kind in ('table', 'file', 'application')),
    source          text not null,
    qualified_name  text not null,
    name            text not null,
    owner           text,
    tags            text[] not null default '{}',
    sensitivity     text not null check (sensitivity in ('public', 'internal', 'confidential', 'restricted')),
    columns         jsonb not null default '[]'::jsonb,
    pii_kinds       text[] not null default '{}',
    row_estimate    bigint,
    sanctioned      boolean not null default true,
    details         jsonb not null default '{}'::jsonb,
    discovered_at   timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (tenant_id, source, qualified_name)
);
create index assets_tenant_kind_idx on assets (tenant_id, kind, sanctioned);

-- Applications the tenant has approved; anything else seen in logs is shadow IT.
create table approved_apps (
    tenant_id   uuid not null references tenants (id) on delete cascade,
    name        text not null check (name = lower(name)),
    primary key (tenant_id, name)
);

create table discovery_runs (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    target          jsonb not null,
    status          text not null check (status in ('running', 'succeeded', 'failed')),
    assets_found    integer not null default 0,
    pii_columns     integer not null default 0,
    error           text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz
);
create index discovery_runs_tenant_idx on discovery_runs (tenant_id, started_at desc);

create table connectors (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    name            text not null check (length(name) between 1 and 200),
    kind            text not null check (kind in ('postgres', 'supabase', 'files')),
    config          jsonb not null,
    status          text not null default 'unknown' check (status in ('unknown', 'healthy', 'failing', 'drifted')),
    status_detail   text,
    last_health_at  timestamptz,
    last_sync_at    timestamptz,
    created_at      timestamptz not null default now(),
    unique (tenant_id, name)
);

create table sync_runs (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    connector_id    uuid not null references connectors (id) on delete cascade,
    status          text not null check (status in ('queued', 'running', 'succeeded', 'partial', 'failed')),
    rows_read       bigint not null default 0,
    rows_written    bigint not null default 0,
    errors          jsonb not null default '[]'::jsonb,
    approval_id     uuid,
    queued_at       timestamptz not null default now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    duration_ms     integer
);
create index sync_runs_connector_idx on sync_runs (tenant_id, connector_id, queued_at desc);

-- The shape of each source entity each time it was observed; `changes` holds
-- the drift against the previous fingerprint (added, removed, renamed, retyped).
create table schema_fingerprints (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    connector_id    uuid not null references connectors (id) on delete cascade,
    entity          text not null,
    fingerprint     text not null,
    columns         jsonb not null,
    changes         jsonb not null default '[]'::jsonb,
    observed_at     timestamptz not null default now()
);
create index schema_fingerprints_entity_idx on schema_fingerprints (tenant_id, connector_id, entity, observed_at desc);

-- Source rows after approved mappings turned them into canonical fields.
create table canonical_records (
    tenant_id       uuid not null references tenants (id) on delete cascade,
    connector_id    uuid not null references connectors (id) on delete cascade,
    entity          text not null,
    source_entity   text not null,
    source_key      text not null,
    data            jsonb not null,
    synced_at       timestamptz not null default now(),
    primary key (tenant_id, connector_id, entity, source_key)
);
create index canonical_records_entity_idx on canonical_records (tenant_id, entity);

create table mapping_proposals (
    id                  uuid primary key,
    tenant_id           uuid not null references tenants (id) on delete cascade,
    connector_id        uuid not null references connectors (id) on delete cascade,
    source_entity       text not null,
    source_field        text not null,
    source_type         text not null,
    canonical_entity    text not null,
    canonical_field     text not null,
    confidence          real not null check (confidence between 0 and 1),
    signals             jsonb not null,
    rationale           text not null,
    status              text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'superseded')),
    decided_by_user     uuid,
    decided_at          timestamptz,
    created_at          timestamptz not null default now()
);
create unique index mapping_proposals_pending_once
    on mapping_proposals (tenant_id, connector_id, source_entity, source_field) where status = 'pending';
create index mapping_proposals_tenant_idx on mapping_proposals (tenant_id, status, created_at desc);

create table mapping_registry (
    tenant_id           uuid not null references tenants (id) on delete cascade,
    connector_id        uuid not null references connectors (id) on delete cascade,
    source_entity       text not null,
    source_field        text not null,
    canonical_entity    text not null,
    canonical_field     text not null,
    proposal_id         uuid,
    approved_by_user    uuid,
    approved_at         timestamptz not null default now(),
    primary key (tenant_id, connector_id, source_entity, source_field)
);

create table agent_runs (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    agent           text not null check (agent in ('finops', 'revops', 'ops')),
    parameters      jsonb not null default '{}'::jsonb,
    status          text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
    progress        integer not null default 0 check (progress between 0 and 100),
    progress_note   text,
    result          jsonb,
    error           text,
    attempts        integer not null default 0,
    worker          text,
    requested_by_user uuid,
    requested_by_key  uuid,
    created_at      timestamptz not null default now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
create index agent_runs_tenant_idx on agent_runs (tenant_id, created_at desc);

select app_enable_tenant_isolation(t)
from unnest(array['tool_calls', 'approvals', 'assets', 'approved_apps', 'discovery_runs', 'connectors',
                  'sync_runs', 'schema_fingerprints', 'canonical_records', 'mapping_proposals',
                  'mapping_registry', 'agent_runs']::regclass[]) as t;
