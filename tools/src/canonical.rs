//! The canonical model: the entities and fields that syncs write and agents
//! read. A source field reaches a canonical field only through an approved
//! mapping; agents query `canonical_records.data` by these field names.

use serde::Serialize;

/// The type of a canonical field, as stored in `canonical_records.data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    /// A decimal number, stored as a JSON number.
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339, UTC.
    Timestamp,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub field_type: FieldType,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entity {
    pub name: &'static str,
    pub description: &'static str,
    /// Fields whose values together identify a record within a source.
    pub key: &'static [&'static str],
    pub fields: &'static [Field],
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, field_type: FieldType, description: &'static str) -> Field {
    Field {
        name,
        field_type,
        description,
    }
}

use FieldType::{Date, Number, Text, Timestamp};

/// Every canonical entity.
pub const ENTITIES: &[Entity] = &[
    Entity {
        name: "cloud_cost",
        description: "daily cost of one cloud resource",
        key: &["usage_date", "resource_id"],
        fields: &[
            f("usage_date", Date, "day the usage was billed for"),
            f("provider", Text, "cloud provider such as aws or gcp"),
            f("account", Text, "cloud account or project id"),
            f("service", Text, "cloud product or service name"),
            f("resource_id", Text, "identifier of the billed resource"),
            f("cost_usd", Number, "cost in US dollars"),
            f("team", Text, "owning team tag"),
            f(
                "environment",
                Text,
                "environment tag such as prod or staging",
            ),
            f(
                "cpu_utilization_pct",
                Number,
                "average cpu utilisation percent",
            ),
        ],
    },
    Entity {
        name: "budget",
        description: "monthly budget of one cloud account",
        key: &["month", "account"],
        fields: &[
            f("month", Date, "first day of the budget month"),
            f("account", Text, "cloud account or project id"),
            f("budget_usd", Number, "budgeted amount in US dollars"),
        ],
    },
    Entity {
        name: "account",
        description: "customer account in the CRM",
        key: &["account_id"],
        fields: &[
            f("account_id", Text, "customer account identifier"),
            f("name", Text, "customer company name"),
            f(
                "segment",
                Text,
                "market segment: Enterprise, Mid-Market or SMB",
            ),
            f("industry", Text, "customer industry"),
            f("country", Text, "customer country"),
            f("contact_email", Text, "email address of the main contact"),
            f("created_date", Date, "date the account was created"),
        ],
    },
    Entity {
        name: "opportunity",
        description: "sales opportunity (deal) in the pipeline",
        key: &["opportunity_id"],
        fields: &[
            f("opportunity_id", Text, "opportunity identifier"),
            f("account_id", Text, "customer account identifier"),
            f("name", Text, "opportunity name"),
            f("stage", Text, "sales stage such as proposal or closed_won"),
            f("amount_usd", Number, "deal amount in US dollars"),
            f("owner", Text, "sales rep who owns the deal"),
            f("segment", Text, "market segment of the deal"),
            f("created_date", Date, "date the opportunity was created"),
            f("close_date", Date, "expected or actual close date"),
            f(
                "stage_entered_date",
                Date,
                "date the deal entered its current stage",
            ),
        ],
    },
    Entity {
        name: "invoice",
        description: "customer invoice",
        key: &["invoice_id"],
        fields: &[
            f("invoice_id", Text, "invoice number"),
            f("account_id", Text, "customer account identifier"),
            f("amount_usd", Number, "amount due"),
            f("currency", Text, "currency code"),
            f("issued_date", Date, "date the invoice was issued"),
            f("due_date", Date, "date payment is due"),
            f("paid_date", Date, "date the invoice was paid"),
            f("status", Text, "invoice status such as paid or overdue"),
        ],
    },
    Entity {
        name: "ticket",
        description: "customer support ticket",
        key: &["ticket_id"],
        fields: &[
            f("ticket_id", Text, "ticket identifier"),
            f("opened_at", Timestamp, "when the ticket was opened"),
            f("resolved_at", Timestamp, "when the ticket was resolved"),
            f("priority", Text, "ticket priority, P1 highest"),
            f("team", Text, "support team the ticket is assigned to"),
            f("status", Text, "ticket status: open, pending or resolved"),
            f("customer", Text, "customer who raised the ticket"),
            f(
                "sla_hours",
                Number,
                "hours allowed to resolve under the SLA",
            ),
            f("channel", Text, "channel the ticket came in through"),
        ],
    },
    Entity {
        name: "shipment",
        description: "order shipment from a vendor",
        key: &["shipment_id"],
        fields: &[
            f("shipment_id", Text, "shipment reference"),
            f("order_date", Date, "date the order was placed"),
            f("promised_date", Date, "delivery date promised"),
            f("shipped_date", Date, "date the goods shipped"),
            f("delivered_date", Date, "date the goods were delivered"),
            f("vendor", Text, "supplier that fulfils the order"),
            f("carrier", Text, "carrier that transports it"),
            f("status", Text, "shipment status"),
        ],
    },
];

/// The canonical entity called `name`.
pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().find(|e| e.name == name)
}
