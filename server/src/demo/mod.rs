//! The demo tenant: a fixed id, an admin and one user per executive persona,
//! created only when missing so that running the seed again changes nothing.

use anyhow::{Context, Result};
use uuid::{Uuid, uuid};

use crate::admin::users::{CreateUser, add_user};
use crate::domain::{Email, Persona, Role, TenantId};
use crate::knowledge::KnowledgeService;
use crate::store::audit::Actor;
use crate::store::{Db, StoreError, tenants, users};

mod knowledge;
mod platform;

/// Everything under the repository's `demo/` folder, built into the binary so
/// the seed works wherever `aos` runs.
static DEMO_DIR: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../demo");

pub const DEMO_TENANT: Uuid = uuid!("de300000-0000-4000-8000-000000000001");
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.aos";
/// Published in the README: the demo is for trying the product locally.
pub const DEMO_PASSWORD: &str = "autonomos-demo";

const DEMO_USERS: [(&str, &str, Role, Option<Persona>); 6] = [
    (DEMO_ADMIN_EMAIL, "Avery Admin", Role::Admin, None),
    (
        "cto@demo.aos",
        "Casey Chen (CTO)",
        Role::Approver,
        Some(Persona::Cto),
    ),
    (
        "cfo@demo.aos",
        "Frances Okafor (CFO)",
        Role::Approver,
        Some(Persona::Cfo),
    ),
    (
        "cro@demo.aos",
        "Ravi Patel (CRO)",
        Role::Analyst,
        Some(Persona::Cro),
    ),
    (
        "coo@demo.aos",
        "Olivia Moreno (COO)",
        Role::Analyst,
        Some(Persona::Coo),
    ),
    ("viewer@demo.aos", "Vic Viewer", Role::Viewer, None),
];

pub async fn seed(
    settings: &crate::settings::Settings,
    db: &Db,
    knowledge_service: &KnowledgeService,
    platform: &tools::Platform,
) -> Result<()> {
    let tenant = TenantId(DEMO_TENANT);
    let mut tx = db.tenant(tenant).await?;
    match tenants::current(&mut tx).await {
        Ok(_) => {}
        Err(StoreError::NotFound(_)) => {
            tenants::create(&mut tx, tenant, "Demo Co").await?;
        }
        Err(e) => return Err(e).context("cannot read the demo tenant"),
    }
    tx.commit().await?;
    for (email, name, role, persona) in DEMO_USERS {
        let mut tx = db.tenant(tenant).await?;
        let existing = users::find_for_login(&mut tx, &Email::parse(email)?).await?;
        drop(tx);
        if existing.is_none() {
            add_user(
                db,
                tenant,
                Actor::System,
                CreateUser {
                    email: email.into(),
                    password: DEMO_PASSWORD.into(),
                    role,
                    display_name: Some(name.into()),
                    persona,
                },
            )
            .await
            .with_context(|| format!("cannot create demo user {email}"))?;
        }
    }
    knowledge::seed(db, knowledge_service, tenant).await?;
    platform::seed(settings, platform, DEMO_TENANT).await?;
    println!("{DEMO_TENANT}");
    eprintln!("demo tenant {DEMO_TENANT} ready; sign in with password {DEMO_PASSWORD} as:");
    for (email, name, role, _) in DEMO_USERS {
        eprintln!("  {email:<18} {:<8} {name}", role.as_str());
    }
    Ok(())
}
