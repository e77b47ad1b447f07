//! DKIM signatures made through lettre over djrs-mail's bytes verify: the body hash and the
//! Ed25519 signature are checked here against RFC 6376's relaxed canonicalization.
#![cfg(feature = "dkim")]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use djrs_mail::{DkimSigner, EmailMessage};
use ed25519_dalek::{Signature, SigningKey, Verifier as _};
use sha2::{Digest, Sha256};

const SECRET: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

/// RFC 6376 §3.4.2: lower-case name, unfolded, runs of WSP as one space, no WSP at the ends.
fn relaxed_header(name: &str, value: &str) -> String {
    let unfolded = value.replace("\r\n", "");
    let squashed = unfolded
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!("{}:{}", name.to_ascii_lowercase(), squashed)
}

/// RFC 6376 §3.4.4.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut lines: Vec<String> = text
        .split("\r\n")
        .map(|line| {
            // Runs of WSP become one space (a leading run too); WSP at the end goes.
            let mut out = String::new();
            for c in line.chars() {
                if c == ' ' || c == '\t' {
                    if !out.ends_with(' ') {
                        out.push(' ');
                    }
                } else {
                    out.push(c);
                }
            }
            out.trim_end_matches(' ').to_owned()
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut out = lines.join("\r\n").into_bytes();
    if !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = out.last_mut().unwrap();
            last.1.push_str("\r\n");
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

fn tag<'a>(signature: &'a str, name: &str) -> &'a str {
    signature
        .split(';')
        .map(str::trim)
        .find_map(|t| t.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {signature}"))
}

fn verify(signed: &[u8]) {
    let split = signed.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = std::str::from_utf8(&signed[..split]).unwrap();
    let body = &signed[split + 4..];
    let all = headers(head);
    let (_, dkim) = all
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("DKIM-Signature"))
        .unwrap();
    let dkim_unfolded = dkim.replace("\r\n", "");
    let bh = tag(&dkim_unfolded, "bh");
    assert_eq!(
        bh,
        STANDARD.encode(Sha256::digest(relaxed_body(body))),
        "body hash"
    );
    let mut data = String::new();
    for name in tag(&dkim_unfolded, "h").split(':') {
        if let Some((n, v)) = all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            data.push_str(&relaxed_header(n, v));
            data.push_str("\r\n");
        }
    }
    let b = tag(&dkim_unfolded, "b");
    let without_b = dkim.replacen(b, "", 1);
    data.push_str(&relaxed_header("DKIM-Signature", &without_b));
    let key = SigningKey::from_bytes(&STANDARD.decode(SECRET).unwrap().try_into().unwrap());
    let signature =
        Signature::from_slice(&STANDARD.decode(b.replace([' ', '\t'], "")).unwrap()).unwrap();
    key.verifying_key()
        .verify(&Sha256::digest(data.as_bytes()), &signature)
        .expect("the signature verifies");
}

#[test]
fn signatures_verify_and_tampering_breaks_them() {
    let signer = DkimSigner::ed25519("example.com", "mail", SECRET).unwrap();
    let message = EmailMessage::new(
        "Grüße, a long subject that is folded over more than one line of the header block",
        "Body\n  with  spaces \n\n",
    )
    .from_email("Shop <shop@example.com>")
    .unwrap()
    .to(["Ann <ann@example.com>", "bob@example.com"])
    .unwrap()
    .attach_alternative("<p>HTML</p>", "text/html")
    .attach("a.bin", vec![0_u8, 1, 2], None);
    let signed = signer.sign(&message.message().unwrap()).unwrap();
    verify(&signed);

    let tampered = String::from_utf8(signed.clone())
        .unwrap()
        .replace("Body", "B0dy");
    let result = std::panic::catch_unwind(|| verify(tampered.as_bytes()));
    assert!(result.is_err(), "a changed body must not verify");
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("From: Shop", "From: Sh0p");
    let result = std::panic::catch_unwind(|| verify(tampered.as_bytes()));
    assert!(result.is_err(), "a changed From must not verify");
}
