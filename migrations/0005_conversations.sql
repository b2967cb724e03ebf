-- Conversations and their messages, with what the gateway did for each turn:
-- persona and intent, citations, tool calls, token usage and stage timings.

create table conversations (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    user_id         uuid,
    api_key_id      uuid,
    title           text not null check (length(title) <= 200),
    persona         text check (persona in ('cto', 'cro', 'coo', 'cfo')),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index conversations_owner_idx on conversations (tenant_id, user_id, updated_at desc);

create table messages (
    id              uuid primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    conversation_id uuid not null references conversations (id) on delete cascade,
    role            text not null check (role in ('user', 'assistant')),
    -- The text as the user wrote it or saw it (placeholders restored).
    text            text not null,
    -- The id the client gave the user message (a re-sent one is answered once:
    -- the gateway keeps client_msg_id → message in Redis).
    client_msg_id   text,
    reply_to        uuid references messages (id) on delete cascade,
    persona         text,
    intent          text,
    confidence      real,
    citations       jsonb not null default '[]'::jsonb,
    tool_calls      jsonb not null default '[]'::jsonb,
    approvals       jsonb not null default '[]'::jsonb,
    model           text,
    prompt_tokens   integer not null default 0,
    completion_tokens integer not null default 0,
    timings_ms      jsonb not null default '{}'::jsonb,
    finish_reason   text,
    created_at      timestamptz not null default now()
);
create index messages_conversation_idx on messages (tenant_id, conversation_id, created_at);
create index messages_usage_idx on messages (tenant_id, created_at) where role = 'assistant';

select app_enable_tenant_isolation(t)
from unnest(array['conversations', 'messages']::regclass[]) as t;
