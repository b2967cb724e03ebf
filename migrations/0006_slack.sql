-- Slack: workspaces (team → tenant) with their secrets encrypted by the
-- server, the links from Slack users to platform users, and which platform
-- conversation a Slack thread continues.
--
-- The signing secret, the bot token and the incoming-webhook URL are stored
-- sealed (ChaCha20-Poly1305, key derived by the server; see server/src/slack/
-- seal.rs): the database never holds them in clear.

create table slack_workspaces (
    tenant_id           uuid not null references tenants (id) on delete cascade,
    team_id             text not null check (team_id ~ '^[A-Z0-9]{2,32}$'),
    signing_secret_enc  text not null,
    bot_token_enc       text not null,
    -- The Slack Web API base URL (tests and proxies point it elsewhere).
    api_base            text not null default 'https://slack.com/api' check (length(api_base) <= 500),
    webhook_url_enc     text,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    primary key (tenant_id, team_id)
);

-- A Slack user, in one workspace, acting as a platform user of its tenant.
create table slack_user_links (
    tenant_id       uuid not null,
    team_id         text not null,
    slack_user_id   text not null check (slack_user_id ~ '^[A-Z0-9]{2,32}$'),
    user_id         uuid not null references users (id) on delete cascade,
    created_at      timestamptz not null default now(),
    primary key (tenant_id, team_id, slack_user_id),
    foreign key (tenant_id, team_id) references slack_workspaces (tenant_id, team_id) on delete cascade
);
create index slack_user_links_user_idx on slack_user_links (tenant_id, user_id);

-- A thread the bot answered in, and the conversation its follow-ups continue
-- (one per platform user: a conversation belongs to its user).
create table slack_threads (
    tenant_id        uuid not null,
    team_id          text not null,
    channel_id       text not null check (length(channel_id) <= 64),
    thread_ts        text not null check (length(thread_ts) <= 64),
    user_id          uuid not null references users (id) on delete cascade,
    conversation_id  uuid not null references conversations (id) on delete cascade,
    created_at       timestamptz not null default now(),
    primary key (tenant_id, team_id, channel_id, thread_ts, user_id),
    foreign key (tenant_id, team_id) references slack_workspaces (tenant_id, team_id) on delete cascade
);

select app_enable_tenant_isolation(t)
from unnest(array['slack_workspaces', 'slack_user_links', 'slack_threads']::regclass[]) as t;

-- Routing before a tenant is known: a Slack request names its team, and the
-- server must learn which tenant to open. The team joins the routing table
-- of 0001 (no secrets there), kept in step by a trigger; its primary key makes
-- a team belong to one tenant only.
alter table tenant_lookup drop constraint tenant_lookup_kind_check;
alter table tenant_lookup add constraint tenant_lookup_kind_check
    check (kind in ('email', 'api_key', 'slack_team'));

create function sync_slack_team_lookup() returns trigger
    language plpgsql
    as $$
begin
    if tg_op = 'DELETE' then
        delete from tenant_lookup where kind = 'slack_team' and lookup_key = old.team_id;
    else
        insert into tenant_lookup (kind, lookup_key, tenant_id) values ('slack_team', new.team_id, new.tenant_id);
    end if;
    return null;
end
$$;
create trigger slack_workspaces_lookup after insert or delete on slack_workspaces
    for each row execute function sync_slack_team_lookup();
