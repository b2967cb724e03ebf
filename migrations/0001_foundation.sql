-- Foundation: tenants, users, API keys, refresh tokens, audit log, and the
-- row-level security that keeps every tenant's rows to itself.
--
-- Runs as the schema owner (aos_owner locally). The server connects as
-- `aos_app`, which owns nothing, has no BYPASSRLS, and only reaches rows of the
-- tenant it names per transaction with `set_config('app.tenant_id', …, true)`.

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'aos_app') then
        create role aos_app nologin nobypassrls;
    end if;
end
$$;

-- The tenant the current transaction acts for; null (so no row matches) when unset.
create function app_current_tenant() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create table tenants (
    id          uuid primary key,
    name        text not null check (length(name) between 1 and 200),
    created_at  timestamptz not null default now()
);

create table users (
    id             uuid primary key,
    tenant_id      uuid not null references tenants (id) on delete cascade,
    email          text not null check (email = lower(email) and length(email) <= 254),
    password_hash  text not null,
    role           text not null check (role in ('viewer', 'analyst', 'approver', 'admin')),
    display_name   text check (length(display_name) <= 200),
    persona        text check (persona in ('cto', 'cro', 'coo', 'cfo')),
    disabled       boolean not null default false,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create index users_tenant_idx on users (tenant_id, created_at);

create table api_keys (
    id            uuid primary key,
    tenant_id     uuid not null references tenants (id) on delete cascade,
    name          text not null check (length(name) between 1 and 200),
    prefix        text not null unique,
    key_hash      text not null,
    role          text not null check (role in ('viewer', 'analyst', 'approver', 'admin')),
    created_by    uuid references users (id) on delete set null,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
create index api_keys_tenant_idx on api_keys (tenant_id, created_at);

-- Refresh tokens rotate: each use revokes the token and issues the next one in
-- the same family; presenting a revoked token again revokes the whole family.
create table refresh_tokens (
    id           uuid primary key,
    tenant_id    uuid not null references tenants (id) on delete cascade,
    user_id      uuid not null references users (id) on delete cascade,
    family_id    uuid not null,
    token_hash   text not null unique,
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    created_at   timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (tenant_id, family_id);

create table audit_log (
    id              bigint generated always as identity primary key,
    tenant_id       uuid not null references tenants (id) on delete cascade,
    actor_user_id   uuid,
    actor_key_id    uuid,
    action          text not null,
    target_type     text,
    target_id       text,
    detail          jsonb not null default '{}'::jsonb,
    created_at      timestamptz not null default now()
);
create index audit_log_tenant_idx on audit_log (tenant_id, created_at desc);

-- Row-level security on a tenant-owned table, forced even for the owner: rows
-- are visible and writable only while `app.tenant_id` names their tenant.
-- Every migration that adds a tenant-owned table calls this.
create function app_enable_tenant_isolation(target regclass, tenant_column text default 'tenant_id')
    returns void
    language plpgsql
    as $$
begin
    execute format('alter table %s enable row level security', target);
    execute format('alter table %s force row level security', target);
    execute format(
        'create policy tenant_isolation on %s using (%I = app_current_tenant()) '
        'with check (%I = app_current_tenant())', target, tenant_column, tenant_column);
end
$$;

revoke execute on function app_enable_tenant_isolation(regclass, text) from public;

select app_enable_tenant_isolation('tenants', 'id');
select app_enable_tenant_isolation(t)
from unnest(array['users', 'api_keys', 'refresh_tokens', 'audit_log']::regclass[]) as t;

-- Routing before a tenant is known: a login names an email and an API key its
-- prefix, and the server must learn which tenant to open. This table holds only
-- that routing (no secrets, no profile) and is kept in step by triggers.
create table tenant_lookup (
    kind        text not null check (kind in ('email', 'api_key')),
    lookup_key  text not null,
    tenant_id   uuid not null references tenants (id) on delete cascade,
    primary key (kind, lookup_key)
);

create function sync_user_lookup() returns trigger
    language plpgsql
    as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        delete from tenant_lookup where kind = 'email' and lookup_key = old.email;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into tenant_lookup (kind, lookup_key, tenant_id) values ('email', new.email, new.tenant_id);
    end if;
    return null;
end
$$;
create trigger users_lookup after insert or delete or update of email on users
    for each row execute function sync_user_lookup();

create function sync_api_key_lookup() returns trigger
    language plpgsql
    as $$
begin
    if tg_op = 'DELETE' then
        delete from tenant_lookup where kind = 'api_key' and lookup_key = old.prefix;
    else
        insert into tenant_lookup (kind, lookup_key, tenant_id) values ('api_key', new.prefix, new.tenant_id);
    end if;
    return null;
end
$$;
create trigger api_keys_lookup after insert or delete on api_keys
    for each row execute function sync_api_key_lookup();

grant usage on schema public to aos_app;
grant select, insert, update, delete on all tables in schema public to aos_app;
grant usage, select on all sequences in schema public to aos_app;
revoke insert, update, delete, truncate on _sqlx_migrations from aos_app;
grant select on _sqlx_migrations to aos_app;
alter default privileges in schema public grant select, insert, update, delete on tables to aos_app;
alter default privileges in schema public grant usage, select on sequences to aos_app;
