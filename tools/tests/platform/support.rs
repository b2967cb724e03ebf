//! A real platform for each test: its own database, its own Redis prefix, the
//! local embedder, and a tenant with one user of each role.

use knowledge::embed::{Embedder, LocalEmbedder};
use knowledge::search::{SearchHit, SearchQuery};
use personas::{Persona, PersonaSet};
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tools::{Actor, Caller, KnowledgeSearcher, Platform, Registry, Role, ToolContext};
use uuid::Uuid;

/// One embedder per test binary: loading the model takes a while.
pub fn embedder() -> Arc<dyn Embedder> {
    static EMBEDDER: OnceLock<Arc<LocalEmbedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            let dir = std::env::var_os("AOS_MODEL_DIR")
                .map(PathBuf::from)
                .expect("AOS_MODEL_DIR is not set: run the tests through `make test`");
            Arc::new(LocalEmbedder::load(&dir).expect("load the embedding model"))
        })
        .clone()
}

/// Searches with the knowledge crate directly, as the server does.
struct DirectSearch {
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
}

impl KnowledgeSearcher for DirectSearch {
    fn search<'a>(
        &'a self,
        tenant: Uuid,
        _persona: Option<Persona>,
        query: &'a str,
        limit: usize,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<SearchHit>, String>> + Send + 'a>,
    > {
        Box::pin(async move {
            let vectors = self
                .embedder
                .embed(&[query.to_owned()])
                .await
                .map_err(|e| e.to_string())?;
            let mut tx = tools::begin_tenant(&self.pool, tenant)
                .await
                .map_err(|e| e.to_string())?;
            let analyzer = knowledge::analyze::Analyzer::new(knowledge::analyze::Language::English);
            knowledge::search::search(
                &mut tx,
                &analyzer,
                vectors.first().map(Vec::as_slice),
                &SearchQuery::new(query, limit),
            )
            .await
            .map_err(|e| e.to_string())
        })
    }
}

/// A test's platform, tenant and users.
pub struct TestPlatform {
    pub platform: Arc<Platform>,
    pub registry: Arc<Registry>,
    pub pool: PgPool,
    pub tenant: Uuid,
    /// A user id per role.
    pub users: Vec<(Role, Uuid)>,
    /// The superuser URL of this test's database (to create source tables).
    pub admin_url: String,
}

impl TestPlatform {
    /// A fresh database with one tenant (and one user per role), a Redis
    /// prefix of its own, and `file_roots` as the folders file sources may read.
    pub async fn new(file_roots: Vec<PathBuf>) -> TestPlatform {
        let url = e2e::fresh_database().await;
        let pool = PgPool::connect(&url)
            .await
            .expect("connect to the test database");
        let tenant = Uuid::new_v4();
        let mut users = Vec::new();
        {
            let mut tx = tools::begin_tenant(&pool, tenant).await.expect("begin");
            sqlx::query("insert into tenants (id, name) values ($1, $2)")
                .bind(tenant)
                .bind(format!("tenant {tenant}"))
                .execute(&mut *tx)
                .await
                .expect("create tenant");
            for role in [Role::Viewer, Role::Analyst, Role::Approver, Role::Admin] {
                let id = Uuid::new_v4();
                sqlx::query(
                    "insert into users (id, tenant_id, email, password_hash, role, display_name)
                     values ($1, $2, $3, 'x', $4, $4)",
                )
                .bind(id)
                .bind(tenant)
                .bind(format!("{role}-{id}@example.test"))
                .bind(role.as_str())
                .execute(&mut *tx)
                .await
                .expect("create user");
                users.push((role, id));
            }
            tx.commit().await.expect("commit");
        }
        let redis_url = std::env::var("REDIS_URL").expect("REDIS_URL");
        let client = redis::Client::open(redis_url).expect("redis url");
        let redis = redis::aio::ConnectionManager::new(client)
            .await
            .expect("connect to redis");
        let embedder = embedder();
        let platform = Arc::new(Platform {
            pool: pool.clone(),
            redis,
            redis_prefix: format!("test:{}:", Uuid::new_v4().simple()),
            embedder: embedder.clone(),
            knowledge: Arc::new(DirectSearch {
                pool: pool.clone(),
                embedder,
            }),
            file_roots,
            secrets: Platform::connector_secrets(e2e::JWT_SECRET.as_bytes()),
        });
        let personas = PersonaSet::builtin().expect("persona definitions");
        let registry = Arc::new(Registry::builtin(&personas).expect("registry"));
        let admin_url = e2e::with_database(
            &std::env::var("AOS_TEST_ADMIN_URL").expect("AOS_TEST_ADMIN_URL"),
            url.rsplit('/').next().unwrap_or_default(),
        );
        TestPlatform {
            platform,
            registry,
            pool,
            tenant,
            users,
            admin_url,
        }
    }

    pub fn user(&self, role: Role) -> Uuid {
        self.users
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, id)| *id)
            .expect("a user per role")
    }

    /// A tool context for the user with `role`, speaking as no particular persona.
    pub fn ctx(&self, role: Role) -> ToolContext {
        self.ctx_as(role, None)
    }

    pub fn ctx_as(&self, role: Role, persona: Option<Persona>) -> ToolContext {
        ToolContext {
            platform: self.platform.clone(),
            caller: Caller {
                tenant: self.tenant,
                actor: Actor::User(self.user(role)),
                role,
                persona,
            },
            conversation_id: None,
        }
    }

    /// The same database seen as another, new tenant (for isolation tests).
    pub async fn other_tenant(&self) -> Uuid {
        let tenant = Uuid::new_v4();
        let mut tx = tools::begin_tenant(&self.pool, tenant)
            .await
            .expect("begin");
        sqlx::query("insert into tenants (id, name) values ($1, 'other')")
            .bind(tenant)
            .execute(&mut *tx)
            .await
            .expect("create tenant");
        tx.commit().await.expect("commit");
        tenant
    }
}
