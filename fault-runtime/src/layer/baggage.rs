//! W3C Baggage: reading list-members out of `baggage` headers, and writing facets into one.
//!
//! The grammar, in short: a baggage-string is list-members separated by commas, a
//! list-member is `key=value` followed by properties (`;key` or `;key=value`), optional
//! white space (spaces and tabs) may stand around every separator, a key is an HTTP token,
//! and a value is percent-encoded UTF-8 written with the visible ASCII characters other
//! than `"`, `,`, `;` and `\`.
//!
//! Reading is strict per member and lenient per header: a member that breaks the grammar is
//! skipped and the others are kept, and nothing in a header can make the parser panic,
//! allocate without bound or loop for long (a header past [`MAX_BAGGAGE_BYTES`] is not even
//! split).

use std::borrow::Cow;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::{MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS, facet_value};

/// The name of the header.
pub(crate) const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// What a value must percent-encode: every byte that is not a baggage-octet (controls,
/// space, `"`, `,`, `;`, `\` and every byte outside ASCII), and `%` itself.
const VALUE_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// One list-member as it stands in the header, its grammar checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Member<'a> {
    /// The key, white space trimmed.
    pub(crate) key: &'a str,
    /// The value as written: percent-encoded, white space trimmed.
    encoded_value: &'a str,
    /// The whole member, properties included, white space around it trimmed.
    pub(crate) text: &'a str,
}

impl<'a> Member<'a> {
    /// The value, percent-decoded; `None` when the decoded bytes are not UTF-8.
    ///
    /// The specification asks a reader to replace such bytes with U+FFFD. A facet is an
    /// exact selector, and a replaced value is not the one the sender meant, so such a
    /// member selects nothing instead.
    pub(crate) fn value(&self) -> Option<Cow<'a, str>> {
        percent_decode_str(self.encoded_value).decode_utf8().ok()
    }
}

/// Optional white space: spaces and horizontal tabs.
fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// Whether `text` is an HTTP token: one or more of the characters a header name may hold.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Whether `byte` may stand in a value as it is written.
fn is_baggage_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Whether `text` is a value as written: baggage-octets, and every `%` starting an escape
/// of two hex digits (a stray `%` would decode to something the sender did not write).
fn is_encoded_value(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if !is_baggage_octet(byte) {
            return false;
        }
        if byte == b'%' {
            let escape = bytes.get(at + 1..at + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            at += 3;
        } else {
            at += 1;
        }
    }
    true
}

/// A property: `key` or `key=value`, white space around the `=` allowed. Its meaning is
/// left to others; only its grammar is checked.
fn is_property(text: &str) -> bool {
    match text.split_once('=') {
        None => is_token(trim_ows(text)),
        Some((key, value)) => {
            is_token(trim_ows(key)) && trim_ows(value).bytes().all(is_baggage_octet)
        }
    }
}

/// Reads one list-member (white space around it already trimmed, not empty), or `None`
/// when it breaks the grammar.
fn member(text: &str) -> Option<Member<'_>> {
    let mut parts = text.split(';');
    let (key, value) = parts.next()?.split_once('=')?;
    let key = trim_ows(key);
    let encoded_value = trim_ows(value);
    if !is_token(key) || !is_encoded_value(encoded_value) {
        return None;
    }
    if !parts.all(is_property) {
        return None;
    }
    Some(Member {
        key,
        encoded_value,
        text,
    })
}

/// The list-members of a baggage-string, in order: `Some` for each member that follows the
/// grammar, `None` for each that does not. Empty elements (`a=1,,b=2`) are passed over.
pub(crate) fn members(baggage: &str) -> impl Iterator<Item = Option<Member<'_>>> {
    baggage
        .split(',')
        .map(trim_ows)
        .filter(|element| !element.is_empty())
        .map(member)
}

/// The well-formed list-members of a received baggage-string, or `None` when it is beyond
/// the limits: more than [`MAX_BAGGAGE_BYTES`] bytes, or more than [`MAX_BAGGAGE_MEMBERS`]
/// members (malformed ones counted). Such a baggage is ignored whole, rather than cut at an
/// arbitrary member.
pub(crate) fn parse(baggage: &str) -> Option<Vec<Member<'_>>> {
    if baggage.len() > MAX_BAGGAGE_BYTES {
        return None;
    }
    let mut parsed = Vec::new();
    for (count, member) in members(baggage).enumerate() {
        if count >= MAX_BAGGAGE_MEMBERS {
            return None;
        }
        parsed.extend(member);
    }
    Some(parsed)
}

/// Every `baggage` header of a request, as one baggage-string: several headers are one
/// list, joined by commas. Bytes that are not UTF-8 become U+FFFD, which no member may
/// hold, so only the members they stand in are lost.
pub(crate) fn combined(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    // An empty header adds no member; joining it would only add a comma, and could push a
    // baggage at the size limit over it.
    let mut values = headers
        .get_all(BAGGAGE)
        .iter()
        .filter(|value| !value.as_bytes().trim_ascii().is_empty());
    let first = values.next()?;
    let mut joined = String::from_utf8_lossy(first.as_bytes());
    for value in values {
        // Stop early: past the limit the whole baggage is ignored anyway.
        if joined.len() > MAX_BAGGAGE_BYTES {
            break;
        }
        let joined = joined.to_mut();
        joined.push(',');
        joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    Some(joined)
}

/// The value of `key` in received baggage, if it has exactly one, and the value is a
/// facet value (UTF-8 once decoded, not empty, at most
/// [`MAX_VALUE_BYTES`](super::MAX_VALUE_BYTES) bytes). A key
/// given twice with different values selects nothing: which one the sender meant is not
/// known.
pub(crate) fn value_of<'a>(members: &[Member<'a>], key: &str) -> Option<Cow<'a, str>> {
    let mut found: Option<Cow<'a, str>> = None;
    for member in members.iter().filter(|member| member.key == key) {
        let value = member.value()?;
        match &found {
            Some(earlier) if *earlier != value => return None,
            Some(_) => {}
            None => found = Some(value),
        }
    }
    found.filter(|value| facet_value(value.as_bytes()).is_some())
}

/// `key=value`, the value percent-encoded.
pub(crate) fn encode_member(key: &str, value: &str) -> String {
    format!("{key}={}", utf8_percent_encode(value, VALUE_ESCAPES))
}

/// Whether a facet's value can be written as a baggage member's value.
pub(crate) fn writable(value: &str) -> bool {
    facet_value(value.as_bytes()).is_some()
}

/// Writes `ours` (`(baggage key, value)` pairs, keys unique tokens) into the `baggage`
/// headers, merged with the members already there into a single header.
///
/// - A member already there with a key written here is replaced: it is left out, and ours
///   is added after the members kept. A key of `ours` that is not written (its value could
///   not be, or did not fit) leaves the member already there alone.
/// - Members already there that break the grammar are left out; the others keep their
///   order, properties and spelling.
/// - The result stays within [`MAX_BAGGAGE_MEMBERS`] members and [`MAX_BAGGAGE_BYTES`]
///   bytes. Ours take the room first (in the order given, each one that fits); the members
///   already there fill what is left, in order, and those that do not fit are left out.
///
/// Values that a receiving layer would ignore (empty, or longer than
/// [`MAX_VALUE_BYTES`](super::MAX_VALUE_BYTES) bytes) are not written. When nothing of
/// `ours` is written, the headers are left as they were.
pub(crate) fn write(headers: &mut HeaderMap, ours: &[(&str, &str)]) {
    let mut budget = Budget::default();
    let written: Vec<(&str, String)> = ours
        .iter()
        .filter(|(_, value)| facet_value(value.as_bytes()).is_some())
        .map(|(key, value)| (*key, encode_member(key, value)))
        .filter(|(_, member)| budget.take(member.len()))
        .collect();
    if written.is_empty() {
        return;
    }

    let existing = combined(headers).unwrap_or_default();
    let kept: Vec<&str> = members(&existing)
        .flatten()
        // Only members whose key is written here are replaced; the others stay.
        .filter(|member| written.iter().all(|(key, _)| *key != member.key))
        .map(|member| member.text)
        .filter(|text| budget.take(text.len()))
        .collect();

    let joined = kept
        .into_iter()
        .chain(written.iter().map(|(_, member)| member.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    // Every byte of the result is visible ASCII: kept members passed the grammar, and ours
    // are a token and an encoded value.
    if let Ok(value) = HeaderValue::from_str(&joined) {
        headers.remove(BAGGAGE);
        headers.insert(BAGGAGE, value);
    }
}

/// The room left in a baggage-string being written.
#[derive(Default)]
struct Budget {
    members: usize,
    bytes: usize,
}

impl Budget {
    /// Takes room for one member of `len` bytes (and the comma before it), if there is.
    fn take(&mut self, len: usize) -> bool {
        let bytes = self.bytes + len + usize::from(self.members > 0);
        if self.members < MAX_BAGGAGE_MEMBERS && bytes <= MAX_BAGGAGE_BYTES {
            self.members += 1;
            self.bytes = bytes;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::MAX_VALUE_BYTES;
    use proptest::prelude::*;

    /// The `(key, decoded value)` of every well-formed member, or `None` beyond the limits.
    fn pairs(baggage: &str) -> Option<Vec<(String, String)>> {
        parse(baggage).map(|members| {
            members
                .iter()
                .map(|m| {
                    let value = m
                        .value()
                        .map_or_else(|| "<not utf-8>".into(), Cow::into_owned);
                    (m.key.to_owned(), value)
                })
                .collect()
        })
    }

    fn owned(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(BAGGAGE, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn written(existing: &[&str], ours: &[(&str, &str)]) -> Vec<String> {
        let mut map = headers(existing);
        write(&mut map, ours);
        map.get_all(BAGGAGE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn valid_members_are_read_in_order() {
        assert_eq!(
            pairs("userId=alice,serverNode=DF%2028,isProduction=false"),
            owned(&[
                ("userId", "alice"),
                ("serverNode", "DF 28"),
                ("isProduction", "false")
            ])
        );
    }

    #[test]
    fn white_space_around_separators_is_trimmed() {
        assert_eq!(
            pairs(" \tuserId =   alice ,serverNode\t=\tDF%2028 , isProduction = false\t"),
            owned(&[
                ("userId", "alice"),
                ("serverNode", "DF 28"),
                ("isProduction", "false")
            ])
        );
    }

    #[test]
    fn properties_are_accepted_and_kept_in_the_member_text() {
        let baggage = "key1=value1;property1;property2, key2 = value2, \
                       key3=value3; propertyKey=propertyValue";
        assert_eq!(
            pairs(baggage),
            owned(&[("key1", "value1"), ("key2", "value2"), ("key3", "value3")])
        );
        let members = parse(baggage).unwrap();
        assert_eq!(members[0].text, "key1=value1;property1;property2");
        assert_eq!(members[2].text, "key3=value3; propertyKey=propertyValue");
    }

    #[test]
    fn values_are_percent_decoded_utf8() {
        assert_eq!(
            pairs("city=M%C3%BCnchen,sum=1%2B1%3D2,pct=100%25,eq=a=b"),
            owned(&[
                ("city", "München"),
                ("sum", "1+1=2"),
                ("pct", "100%"),
                ("eq", "a=b")
            ])
        );
        // Decoded bytes that are not UTF-8 give no value.
        let members = parse("bad=%FF%FE").unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].value(), None);
    }

    #[test]
    fn malformed_members_are_skipped_and_the_others_kept() {
        for bad in [
            "novalue",
            "=value",
            "k y=v",
            "k\"=v",
            "key=va lue",
            "key=va\"lue",
            "key=va\\lue",
            "key=%",
            "key=%4",
            "key=%zz",
            "key=v;",
            "key=v;;p",
            "key=v;p q",
            "key=v;p=a b",
            "kéy=v",
            "key=vä",
            "(key)=v",
        ] {
            let baggage = format!("a=1, {bad} ,b=2");
            assert_eq!(
                pairs(&baggage),
                owned(&[("a", "1"), ("b", "2")]),
                "member {bad:?}"
            );
        }
    }

    #[test]
    fn empty_elements_and_empty_values() {
        assert_eq!(pairs(""), owned(&[]));
        assert_eq!(pairs(" , ,\t"), owned(&[]));
        assert_eq!(pairs("a=1,,b=2,"), owned(&[("a", "1"), ("b", "2")]));
        // An empty value is well-formed; it is no facet value (see `value_of`).
        assert_eq!(pairs("a="), owned(&[("a", "")]));
        assert_eq!(value_of(&parse("a=").unwrap(), "a"), None);
    }

    #[test]
    fn the_member_limit_ignores_the_whole_baggage() {
        let at_limit: Vec<String> = (0..MAX_BAGGAGE_MEMBERS)
            .map(|n| format!("k{n}=v"))
            .collect();
        assert_eq!(
            parse(&at_limit.join(",")).map(|m| m.len()),
            Some(MAX_BAGGAGE_MEMBERS)
        );
        let mut over = at_limit.clone();
        over.push("late=v".into());
        assert_eq!(parse(&over.join(",")), None);
        // Malformed members count too.
        let mut over = at_limit;
        over.push("malformed".into());
        assert_eq!(parse(&over.join(",")), None);
    }

    #[test]
    fn the_byte_limit_ignores_the_whole_baggage() {
        let filler = "v".repeat(MAX_BAGGAGE_BYTES - "a=".len());
        let at_limit = format!("a={filler}");
        assert_eq!(at_limit.len(), MAX_BAGGAGE_BYTES);
        assert_eq!(parse(&at_limit).map(|m| m.len()), Some(1));
        assert_eq!(parse(&format!("{at_limit} ")), None);
    }

    #[test]
    fn duplicate_keys_select_a_value_only_when_they_agree() {
        let members = parse("c=one,d=x,c=one").unwrap();
        assert_eq!(value_of(&members, "c").as_deref(), Some("one"));
        let members = parse("c=one,d=x,c=two").unwrap();
        assert_eq!(value_of(&members, "c"), None);
        assert_eq!(value_of(&members, "d").as_deref(), Some("x"));
        // Agreeing after decoding is agreeing.
        let members = parse("c=a%20b,c=a%20b").unwrap();
        assert_eq!(value_of(&members, "c").as_deref(), Some("a b"));
        // Keys are case-sensitive.
        assert_eq!(value_of(&members, "C"), None);
    }

    #[test]
    fn value_of_applies_the_facet_value_bound() {
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let members_text = format!("long={long},fits={}", &long[1..]);
        let members = parse(&members_text).unwrap();
        assert_eq!(value_of(&members, "long"), None);
        assert_eq!(
            value_of(&members, "fits").map(|v| v.len()),
            Some(MAX_VALUE_BYTES)
        );
    }

    #[test]
    fn several_headers_are_one_list() {
        let map = headers(&["userId=alice", "serverNode=DF%2028, isProduction=false"]);
        let joined = combined(&map).unwrap();
        assert_eq!(
            pairs(&joined),
            owned(&[
                ("userId", "alice"),
                ("serverNode", "DF 28"),
                ("isProduction", "false")
            ])
        );
        assert_eq!(combined(&HeaderMap::new()), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_lose_only_their_member() {
        let mut map = HeaderMap::new();
        map.append(
            BAGGAGE,
            HeaderValue::from_bytes(b"a=1,b=\xff\xfe,c=3").unwrap(),
        );
        let joined = combined(&map).unwrap();
        assert_eq!(pairs(&joined), owned(&[("a", "1"), ("c", "3")]));
    }

    #[test]
    fn writing_encodes_values_and_replaces_same_keys() {
        assert_eq!(written(&[], &[("customer", "c-42")]), ["customer=c-42"]);
        assert_eq!(
            written(&[], &[("city", "Zürich, CH; \"x\" 100%\\")]),
            ["city=Z%C3%BCrich%2C%20CH%3B%20%22x%22%20100%25%5C"]
        );
        assert_eq!(
            written(
                &["a=1;p, customer=c-7 ;prop=x", "b = 2"],
                &[("customer", "c-42")]
            ),
            ["a=1;p,b = 2,customer=c-42"]
        );
        // Malformed members already there are left out.
        assert_eq!(
            written(&["a=1,oops,b=%zz"], &[("customer", "c-42")]),
            ["a=1,customer=c-42"]
        );
    }

    #[test]
    fn writing_nothing_leaves_the_headers_as_they_were() {
        assert!(written(&[], &[]).is_empty());
        assert_eq!(written(&["a=1, oops"], &[]), ["a=1, oops"]);
        assert_eq!(written(&["a=1"], &[("empty", "")]), ["a=1"]);
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(written(&["a=1"], &[("long", &long)]), ["a=1"]);
    }

    #[test]
    fn writing_stays_within_the_limits_and_ours_come_first() {
        // Members already there past the member limit are left out; ours are kept.
        let many: Vec<String> = (0..MAX_BAGGAGE_MEMBERS)
            .map(|n| format!("k{n}=v"))
            .collect();
        let out = written(&[&many.join(",")], &[("customer", "c-42")]);
        let members = parse(&out[0]).unwrap();
        assert_eq!(members.len(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(members.last().unwrap().text, "customer=c-42");
        assert!(
            members
                .iter()
                .all(|m| m.key != format!("k{}", MAX_BAGGAGE_MEMBERS - 1))
        );

        // And past the byte limit.
        let big = format!("big={}", "v".repeat(MAX_BAGGAGE_BYTES - 10));
        let out = written(&["a=1", &big], &[("customer", "c-42")]);
        assert_eq!(out, ["a=1,customer=c-42"]);
        assert!(out[0].len() <= MAX_BAGGAGE_BYTES);
    }

    /// Facet values the layers carry: any UTF-8, not empty, within the bound.
    fn facet_values() -> impl Strategy<Value = String> {
        any::<String>().prop_filter("a facet value", |v| facet_value(v.as_bytes()).is_some())
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(
            text in any::<String>(),
            // Mostly the grammar's own characters, so separators and escapes meet often.
            near in r#"[a-c=,; \t%0-9A-Fé"\\]{0,64}"#,
        ) {
            for text in [&text, &near] {
                if let Some(members) = parse(text) {
                    for member in &members {
                        let _ = member.value();
                        let _ = value_of(&members, member.key);
                    }
                }
            }
        }

        #[test]
        fn arbitrary_bytes_in_headers_never_panic(
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..4),
            ours in proptest::collection::vec(("[a-z]{1,4}", any::<String>()), 0..4),
        ) {
            let mut map = HeaderMap::new();
            for value in values {
                if let Ok(value) = HeaderValue::from_bytes(&value) {
                    map.append(BAGGAGE, value);
                }
            }
            if let Some(joined) = combined(&map) {
                let _ = parse(&joined);
            }
            let mut seen = Vec::new();
            let ours: Vec<(&str, &str)> = ours
                .iter()
                .filter(|(k, _)| {
                    let fresh = !seen.contains(k);
                    seen.push(k.clone());
                    fresh
                })
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let before = map.clone();
            write(&mut map, &ours);
            // Something to write gives one header; nothing leaves the headers as they were.
            if ours.iter().any(|(_, v)| facet_value(v.as_bytes()).is_some()) {
                prop_assert_eq!(map.get_all(BAGGAGE).iter().count(), 1);
            } else {
                prop_assert_eq!(map, before);
            }
        }

        #[test]
        fn written_facets_read_back_equal(
            facets in proptest::collection::btree_map("[A-Za-z0-9_.-]{1,12}", facet_values(), 0..8),
            existing in "[a-z]{1,3}=[a-z0-9]{0,3}(,[a-z]{1,3}=[a-z0-9]{0,3}){0,4}",
        ) {
            let ours: Vec<(&str, &str)> =
                facets.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut map = headers(&[&existing]);
            write(&mut map, &ours);
            let joined = combined(&map).unwrap();
            let members = parse(&joined).unwrap();
            for (key, value) in &facets {
                let read = value_of(&members, key);
                prop_assert_eq!(read.as_deref(), Some(value.as_str()));
            }
        }
    }
}
