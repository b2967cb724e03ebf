//! PII a column holds, judged by its name alone: `contact_email`, `mobilePhone`,
//! `SSN`, `card_number`, `iban`, `password_hash`, `api_token`.

use super::PiiKind;

/// The kinds of PII a column's name says it holds (empty when it says none).
pub fn kinds_for_column_name(name: &str) -> Vec<PiiKind> {
    let words = words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let pair = |a: &str, b: &[&str]| {
        words
            .windows(2)
            .any(|p| p[0] == a && b.contains(&p[1].as_str()))
    };
    let last = words.last().map(String::as_str).unwrap_or_default();

    let mut kinds = Vec::new();
    if ["email", "emails", "emailaddress"].iter().any(|w| has(w)) || pair("e", &["mail"]) {
        kinds.push(PiiKind::Email);
    }
    if [
        "phone",
        "phones",
        "telephone",
        "phonenumber",
        "cellphone",
        "msisdn",
    ]
    .iter()
    .any(|w| has(w))
        || ["mobile", "tel", "fax"].contains(&last)
        || pair("mobile", &["number", "no", "num"])
        || pair("cell", &["number", "no", "num"])
    {
        kinds.push(PiiKind::Phone);
    }
    if ["pan", "ccn", "cardnumber", "creditcard"]
        .iter()
        .any(|w| has(w))
        || pair("card", &["number", "no", "num", "pan"])
        || pair("credit", &["card"])
        || pair("cc", &["number", "no", "num"])
    {
        kinds.push(PiiKind::CardNumber);
    }
    if has("iban") {
        kinds.push(PiiKind::Iban);
    }
    if ["ssn", "nino"].iter().any(|w| has(w))
        || pair("social", &["security", "sec"])
        || pair("national", &["id", "identifier", "number", "insurance"])
    {
        kinds.push(PiiKind::NationalId);
    }
    if [
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "apikey",
        "credential",
        "credentials",
    ]
    .iter()
    .any(|w| has(w))
        || pair("api", &["key", "token"])
        || ["access", "secret", "private"]
            .iter()
            .any(|a| pair(a, &["key", "token"]))
        || last == "token"
    {
        kinds.push(PiiKind::Secret);
    }
    kinds
}

/// Lower-case words of an identifier: split at non-alphanumerics and at
/// camel-case humps (`contactEmail`, `EMAIL_ADDRESS`, `e-mail`).
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev = None;
            continue;
        }
        let hump = c.is_uppercase() && prev.is_some_and(char::is_lowercase);
        if hump && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
        prev = Some(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use PiiKind::*;

    #[test]
    fn names_that_say_pii() {
        for (name, kinds) in [
            ("email", vec![Email]),
            ("contact_email", vec![Email]),
            ("contactEmail", vec![Email]),
            ("EMAIL_ADDRESS", vec![Email]),
            ("e-mail", vec![Email]),
            ("e_mail", vec![Email]),
            ("contact_phone", vec![Phone]),
            ("mobilePhone", vec![Phone]),
            ("mobile", vec![Phone]),
            ("mobile_number", vec![Phone]),
            ("ssn", vec![NationalId]),
            ("social_security_number", vec![NationalId]),
            ("card_number", vec![CardNumber]),
            ("pan", vec![CardNumber]),
            ("credit_card", vec![CardNumber]),
            ("iban", vec![Iban]),
            ("password_hash", vec![Secret]),
            ("api_key", vec![Secret]),
            ("apiKey", vec![Secret]),
            ("client_secret", vec![Secret]),
            ("access_token", vec![Secret]),
            ("token", vec![Secret]),
        ] {
            assert_eq!(kinds_for_column_name(name), kinds, "{name}");
        }
    }

    #[test]
    fn names_that_do_not() {
        for name in [
            "id",
            "account_name",
            "amount_usd",
            "created_at",
            "mobile_app_version",
            "is_mobile_user",
            "prompt_tokens",
            "token_count",
            "telemetry",
            "company",
            "panel_id",
            "card_type",
            "secretary_name",
            "emailed_at",
        ] {
            assert_eq!(kinds_for_column_name(name), vec![], "{name}");
        }
    }

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(
            words("contactEmailAddress"),
            ["contact", "email", "address"]
        );
        assert_eq!(words("EMAIL_ADDRESS"), ["email", "address"]);
        assert_eq!(words("  card-number  "), ["card", "number"]);
    }
}
