-- Knowledge: documents, their chunks with embeddings (pgvector HNSW), and a
-- BM25 index kept in PostgreSQL (postings, document frequencies and corpus
-- statistics per tenant) so that every replica sees the same index.

create extension if not exists vector;

-- Text analysis (stemming, stop words) follows the tenant's language.
alter table tenants add column language text not null default 'english'
    check (language in ('english', 'french', 'german', 'spanish', 'italian', 'portuguese', 'dutch'));

-- Which embedder filled a tenant's index; vectors of two models never mix.
create table knowledge_settings (
    tenant_id        uuid primary key references tenants (id) on delete cascade,
    embedding_model  text not null,
    dimension        int not null check (dimension = 384),
    created_at       timestamptz not null default now()
);

-- Persona scopes are a bit mask: cto = 1, cro = 2, coo = 4, cfo = 8 (15 = every persona).
create table documents (
    id             uuid primary key,
    tenant_id      uuid not null references tenants (id) on delete cascade,
    title          text not null check (length(title) between 1 and 500),
    source         text not null check (length(source) between 1 and 100),
    uri            text check (length(uri) <= 2000),
    format         text not null,
    content_hash   text not null,
    tags           text[] not null default '{}',
    personas       text[] not null default '{}',
    scope_mask     smallint not null check (scope_mask between 1 and 15),
    byte_size      bigint not null,
    chunk_count    int not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create unique index documents_uri_key on documents (tenant_id, uri) where uri is not null;
-- Uploads without a URI are identified by their content.
create unique index documents_hash_key on documents (tenant_id, content_hash) where uri is null;
create index documents_created_idx on documents (tenant_id, created_at desc, id);
create index documents_tags_idx on documents using gin (tags);

create table chunks (
    id            uuid primary key,
    tenant_id     uuid not null references tenants (id) on delete cascade,
    document_id   uuid not null references documents (id) on delete cascade,
    ord           int not null,
    heading_path  text[] not null default '{}',
    content       text not null,
    token_count   int not null,
    term_count    int not null,
    scope_mask    smallint not null,
    embedding     vector(384) not null
);
create index chunks_document_idx on chunks (document_id, ord);
create index chunks_embedding_idx on chunks using hnsw (embedding vector_cosine_ops);

-- BM25 postings: one row per (term, chunk) with the term frequency and the
-- chunk's length, so scoring needs no join back to chunks. `impact` is the
-- posting's BM25 term weight (without idf) at write time: search reads each
-- term's postings best-first and stops after a fixed number, so a common
-- term costs the same as a rare one; the candidates are then scored exactly.
-- Postings are written and removed with their document's chunks, in the same
-- transaction (no foreign key to chunks: its cascade would probe postings
-- chunk by chunk).
create table chunk_terms (
    tenant_id    uuid not null references tenants (id) on delete cascade,
    term         text not null,
    chunk_id     uuid not null,
    document_id  uuid not null,
    tf           int not null,
    term_count   int not null,
    scope_mask   smallint not null,
    impact       real not null
);
create index chunk_terms_impact_idx on chunk_terms (tenant_id, term, impact desc);
create index chunk_terms_document_idx on chunk_terms (document_id);

create table term_stats (
    tenant_id  uuid not null references tenants (id) on delete cascade,
    term       text not null,
    df         int not null check (df >= 0),
    primary key (tenant_id, term)
);

create table corpus_stats (
    tenant_id    uuid primary key references tenants (id) on delete cascade,
    chunk_count  bigint not null check (chunk_count >= 0),
    term_total   bigint not null check (term_total >= 0)
);

select app_enable_tenant_isolation(t)
from unnest(array['knowledge_settings', 'documents', 'chunks', 'chunk_terms', 'term_stats', 'corpus_stats']::regclass[]) as t;
