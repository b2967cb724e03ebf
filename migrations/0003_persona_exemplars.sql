-- Exemplar utterances a tenant adds to teach the classifier its own phrasing,
-- read only in that tenant's transactions. Each replica embeds a tenant's set
-- once and re-reads it when the set's version (count, latest change) moves.

create table persona_exemplars (
    id          uuid primary key,
    tenant_id   uuid not null references tenants (id) on delete cascade,
    persona     text not null check (persona in ('cto', 'cro', 'coo', 'cfo')),
    intent      text not null check (intent in ('knowledge_query', 'asset_discovery', 'connector_status',
                                                'mapping_review', 'agent_run', 'platform_help', 'out_of_scope')),
    text        text not null check (length(text) between 1 and 1000),
    created_by  uuid,
    created_at  timestamptz not null default now()
);
create index persona_exemplars_tenant_idx on persona_exemplars (tenant_id, created_at);

select app_enable_tenant_isolation('persona_exemplars');
