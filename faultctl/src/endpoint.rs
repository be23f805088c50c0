//! Where an admin endpoint is, and the ids that may go into its paths.

use std::fmt;
use std::str::FromStr;

use hyper::http::uri::Authority;

/// An admin endpoint: the host and port to connect to, and the path it is mounted under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The endpoint as the operator wrote it (less a trailing `/`): how reports name it.
    label: String,
    /// `host:port`, the port always explicit.
    authority: String,
    /// The mount path: empty, or `/` followed by segments, never ending in `/`.
    prefix: String,
}

impl Endpoint {
    /// `host:port`, to connect to and to send as `Host`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path of a route of the endpoint, such as `/attacks`, under its prefix.
    pub fn path(&self, route: &str) -> String {
        format!("{}{route}", self.prefix)
    }

    /// Whether two endpoints reach the same service: host names compare without case.
    pub fn same_as(&self, other: &Endpoint) -> bool {
        self.authority.eq_ignore_ascii_case(&other.authority) && self.prefix == other.prefix
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl FromStr for Endpoint {
    type Err = String;

    /// Reads `HOST:PORT`, a bare `PORT` meaning `127.0.0.1:PORT`, or
    /// `http://HOST[:PORT][/PREFIX]`; a URL without a port means 80.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty; give HOST:PORT or http://HOST:PORT/PREFIX".into());
        }
        // A bare port, as FAULT_ADMIN_ADDR takes it: the endpoint listens on loopback by
        // default, so a port alone is the common case.
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let port = port_number(text, text)?;
            return Ok(Endpoint {
                label: text.to_owned(),
                authority: format!("127.0.0.1:{port}"),
                prefix: String::new(),
            });
        }
        let (authority, prefix, default_port) = match text.split_once("://") {
            Some((scheme, rest)) => {
                if scheme.eq_ignore_ascii_case("https") {
                    return Err("https is not supported: faultctl speaks plain HTTP to the \
                                endpoint, which listens on loopback by default; reach a \
                                remote one through an SSH tunnel or a sidecar"
                        .into());
                }
                if !scheme.eq_ignore_ascii_case("http") {
                    return Err(format!("has the scheme `{scheme}`; only http is supported"));
                }
                if rest.contains(['?', '#']) {
                    return Err(
                        "has a query or a fragment; give only http://HOST:PORT/PREFIX".into(),
                    );
                }
                match rest.find('/') {
                    Some(slash) => (&rest[..slash], &rest[slash..], Some(80)),
                    None => (rest, "", Some(80)),
                }
            }
            None if text.contains('/') => {
                return Err("is neither HOST:PORT nor a URL; write a path as \
                            http://HOST:PORT/PREFIX"
                    .into());
            }
            None => (text, "", None),
        };

        if authority.contains('@') {
            return Err(
                "holds user information (`user@`); the token goes in --token-file or \
                        FAULT_ADMIN_TOKEN"
                    .into(),
            );
        }
        let not_host_and_port =
            || format!("`{authority}` is not HOST:PORT (write IPv6 as [::1]:PORT)");
        let (host, port) = split_port(authority).ok_or_else(not_host_and_port)?;
        if host.is_empty() {
            return Err(format!("`{authority}` has no host"));
        }
        let port = match (port, default_port) {
            (Some(port), _) => port_number(authority, port)?,
            (None, Some(port)) => port,
            (None, None) => {
                return Err(format!(
                    "`{authority}` has no port; write HOST:PORT, such as 127.0.0.1:9464, or \
                     a bare port such as 9464 for 127.0.0.1"
                ));
            }
        };
        let authority = format!("{host}:{port}");
        let parsed = Authority::from_str(&authority).map_err(|_| not_host_and_port())?;

        let prefix = prefix.trim_end_matches('/');
        if let Some(bad) = prefix
            .chars()
            .find(|c| !c.is_ascii_graphic() || matches!(c, '%' | '\\' | '"' | '<' | '>'))
        {
            return Err(format!(
                "has {bad:?} in its path; a prefix is plain path segments"
            ));
        }
        if prefix
            .split('/')
            .any(|segment| matches!(segment, "." | ".."))
        {
            return Err("has `.` or `..` in its path; write the prefix as it is mounted".into());
        }

        Ok(Endpoint {
            label: text.trim_end_matches('/').to_owned(),
            authority: format!("{}:{port}", parsed.host()),
            prefix: prefix.to_owned(),
        })
    }
}

/// Splits `host:port` at the port's colon: the port is `None` when none is written, and
/// an IPv6 host keeps its brackets. `None` for an IPv6 address without brackets, whose
/// colons leave the port unknowable.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        let (host, rest) = authority.split_at(end);
        return match rest {
            "" => Some((host, None)),
            _ => Some((host, Some(rest.strip_prefix(':')?))),
        };
    }
    match authority.split_once(':') {
        Some((_, port)) if port.contains(':') => None,
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

/// The port `text` writes, or why it is not one; `written` names the endpoint in errors.
fn port_number(written: &str, text: &str) -> Result<u16, String> {
    if text.is_empty() {
        return Err(format!(
            "`{written}` has no port after its colon; write HOST:PORT, such as 127.0.0.1:9464"
        ));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{written}` has an invalid port `{text}`: a port is a number from 1 to 65535"
        ));
    }
    match text.parse::<u16>() {
        Ok(0) => Err(format!(
            "`{written}` has port 0, which nothing can be reached on"
        )),
        Ok(port) => Ok(port),
        // Only digits: too large, however many there are.
        Err(_) => Err(format!(
            "`{written}` has a port out of range: {text} is not from 1 to 65535"
        )),
    }
}

/// The variable that lists the endpoints, comma-separated, when no `--addr` is given.
pub const ADDR_VAR: &str = "FAULTCTL_ADDR";

/// Reads the endpoints of [`ADDR_VAR`]'s value; every error names the variable, since
/// the operator may not remember that it is set.
///
/// # Errors
///
/// The value is blank, has an empty entry, or an entry that is not an endpoint.
pub fn parse_list(value: &str) -> Result<Vec<Endpoint>, String> {
    if value.trim().is_empty() {
        return Err(format!(
            "{ADDR_VAR} is empty; list endpoints in it, comma-separated, such as \
             127.0.0.1:9464,127.0.0.1:9465, or give --addr"
        ));
    }
    value
        .split(',')
        .map(|entry| {
            if entry.trim().is_empty() {
                return Err(format!(
                    "{ADDR_VAR} has an empty entry (two commas in a row, or one at an end): \
                     {value:?}"
                ));
            }
            entry
                .parse::<Endpoint>()
                .map_err(|reason| format!("{ADDR_VAR}: {reason}"))
        })
        .collect()
}

/// Checks an attack id before it goes into a path, so it needs no encoding: the ids of the
/// attack format are letters, digits, '.', '_' and '-', at most 128 bytes.
///
/// # Errors
///
/// Why the id is not one an attack can have.
pub fn check_attack_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("an attack id must not be empty".into());
    }
    if id.len() > 128 {
        return Err("an attack id is at most 128 bytes long".into());
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{id}` is not an attack id: it holds {bad:?}; ids have only letters, digits, '.', \
             '_' and '-'"
        ));
    }
    // Limitation: `.` and `..` are valid ids, but in a path they are dot segments, which
    // HTTP clients and proxies may resolve away; only `halt --all` reaches such an attack.
    if matches!(id, "." | "..") {
        return Err(format!(
            "`{id}` cannot go into a URL path, where it means a directory; halt it with \
             `halt --all`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(text: &str) -> Endpoint {
        text.parse()
            .unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn refusal(text: &str) -> String {
        text.parse::<Endpoint>()
            .expect_err(&format!("{text} should be refused"))
    }

    #[test]
    fn host_and_port_connect_at_the_root() {
        let parsed = endpoint("127.0.0.1:9464");
        assert_eq!(parsed.authority(), "127.0.0.1:9464");
        assert_eq!(parsed.path("/points"), "/points");
        assert_eq!(parsed.to_string(), "127.0.0.1:9464");

        let parsed = endpoint("[::1]:9464");
        assert_eq!(parsed.authority(), "[::1]:9464");
        assert_eq!(endpoint("localhost:80").authority(), "localhost:80");
    }

    #[test]
    fn a_url_gives_a_prefix_and_may_leave_out_the_port() {
        let parsed = endpoint("http://127.0.0.1:9464/ops/faults/");
        assert_eq!(parsed.authority(), "127.0.0.1:9464");
        assert_eq!(parsed.path("/attacks"), "/ops/faults/attacks");
        assert_eq!(parsed.to_string(), "http://127.0.0.1:9464/ops/faults");

        let parsed = endpoint("HTTP://svc.internal");
        assert_eq!(parsed.authority(), "svc.internal:80");
        assert_eq!(parsed.path("/points"), "/points");
    }

    #[test]
    fn a_bare_port_means_loopback_and_keeps_its_name() {
        let parsed = endpoint("38205");
        assert_eq!(parsed.authority(), "127.0.0.1:38205");
        assert_eq!(parsed.path("/points"), "/points");
        assert_eq!(parsed.to_string(), "38205");
        assert!(parsed.same_as(&endpoint("127.0.0.1:38205")));
        assert!(refusal("0").contains("port 0"));
        assert!(refusal("65536").contains("out of range"));
    }

    #[test]
    fn ports_are_numbers_from_1_to_65535() {
        assert_eq!(endpoint("127.0.0.1:65535").authority(), "127.0.0.1:65535");
        assert_eq!(endpoint("[::1]:1").authority(), "[::1]:1");
        for text in [
            "127.0.0.1:65536",
            "127.0.0.1:99999999999999999999999",
            "http://localhost:70000/admin",
            "[::1]:65536",
        ] {
            let reason = refusal(text);
            assert!(reason.contains("port out of range"), "{text}: {reason}");
        }
        for text in ["127.0.0.1:-1", "127.0.0.1:80a", "[::1]:+1", "localhost: 1"] {
            let reason = refusal(text);
            assert!(reason.contains("invalid port"), "{text}: {reason}");
        }
        assert!(refusal("127.0.0.1:").contains("no port"));
        assert!(refusal("[::1]").contains("no port"));
    }

    #[test]
    fn an_endpoint_list_names_its_variable_in_every_error() {
        let list = parse_list("127.0.0.1:1, http://127.0.0.1:2/a ,3").unwrap();
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1:1", "http://127.0.0.1:2/a", "3"]);
        for (value, reason) in [
            ("", "FAULTCTL_ADDR is empty"),
            (" ", "FAULTCTL_ADDR is empty"),
            ("a:1,,b:2", "FAULTCTL_ADDR has an empty entry"),
            ("a:1,", "FAULTCTL_ADDR has an empty entry"),
            (",a:1", "FAULTCTL_ADDR has an empty entry"),
            (
                "a:1,b:99999",
                "FAULTCTL_ADDR: `b:99999` has a port out of range",
            ),
        ] {
            let error = parse_list(value).unwrap_err();
            assert!(error.contains(reason), "{value:?}: {error}");
        }
    }

    #[test]
    fn what_cannot_be_reached_is_refused_with_the_reason() {
        assert!(refusal("").contains("empty"));
        assert!(refusal("127.0.0.1").contains("no port"));
        assert!(refusal("127.0.0.1:0").contains("port 0"));
        assert!(refusal("https://127.0.0.1:9464").contains("https is not supported"));
        assert!(refusal("ftp://127.0.0.1:21").contains("only http"));
        assert!(refusal("127.0.0.1:9464/admin").contains("http://HOST:PORT/PREFIX"));
        assert!(refusal("http://u:p@127.0.0.1:1").contains("user information"));
        assert!(refusal("http://127.0.0.1:1/a?b=c").contains("query"));
        assert!(refusal("http://127.0.0.1:1/a b").contains("path"));
        assert!(refusal("http://127.0.0.1:1/a/../b").contains("`..`"));
        assert!(refusal("::1:9464").contains("[::1]"));
    }

    #[test]
    fn the_same_service_written_twice_is_recognised() {
        assert!(endpoint("LOCALHOST:1").same_as(&endpoint("http://localhost:1/")));
        assert!(!endpoint("localhost:1").same_as(&endpoint("http://localhost:1/admin")));
    }

    #[test]
    fn attack_ids_are_checked_before_they_enter_a_path() {
        for id in ["c42-card-network", "a.b_c", "X9"] {
            assert_eq!(check_attack_id(id), Ok(()), "{id}");
        }
        assert!(check_attack_id("").unwrap_err().contains("empty"));
        assert!(check_attack_id("a/b").unwrap_err().contains("'/'"));
        assert!(check_attack_id("a%2F").unwrap_err().contains("'%'"));
        assert!(
            check_attack_id(&"a".repeat(129))
                .unwrap_err()
                .contains("128")
        );
        assert!(check_attack_id("..").unwrap_err().contains("halt --all"));
    }
}
