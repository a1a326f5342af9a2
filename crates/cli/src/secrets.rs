//! Keeps credentials out of everything the command prints.
//!
//! Every option value whose key names a credential (and the same values taken from the
//! environment) is registered here; [`redact`] replaces them with `***` in any text before it
//! is shown (errors, logs, warnings). Servers sometimes echo credentials back in error
//! bodies (S3 returns the session token in `ExpiredToken` errors), so redaction applies to
//! every message, not only to ones built from options.

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Whether an option or environment key holds a credential.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "token",
        "password",
        "key",
        "sas",
        "credential",
        "signature",
    ]
    .iter()
    .any(|w| k.contains(w))
        && !k.ends_with("_file")
        && !k.ends_with("_uri")
        && !k.ends_with("_endpoint")
        && k != "aws_skip_signature"
        && k != "skip_signature"
}

/// Registers a secret value (values shorter than 4 characters are not worth hiding and would
/// garble messages).
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    if let Ok(mut s) = registry().lock() {
        if !s.iter().any(|v| v == value) {
            s.push(value.to_string());
            // Longest first, so a secret containing another is replaced whole.
            s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let Ok(s) = registry().lock() else {
        return text.to_string();
    };
    let mut out = text.to_string();
    for secret in s.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for k in [
            "aws_secret_access_key",
            "aws_session_token",
            "AWS_ACCESS_KEY_ID",
            "azure_storage_sas_key",
            "google_service_account_key",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "aws_region",
            "aws_endpoint",
            "aws_allow_http",
            "aws_skip_signature",
            "aws_web_identity_token_file",
            "aws_container_credentials_relative_uri",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn redacts_registered_values() {
        register("s3cr3t-value-123");
        register("ab"); // too short: ignored
        let msg = redact("403 Forbidden: <Token>s3cr3t-value-123</Token> ab");
        assert_eq!(msg, "403 Forbidden: <Token>***</Token> ab");
    }
}
