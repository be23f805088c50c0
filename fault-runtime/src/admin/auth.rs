//! The bearer token every request must carry, checked in constant time.

use std::sync::Arc;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq as _;

use super::{AdminError, MIN_TOKEN_LEN};

/// The token the endpoint accepts. Never displayed or logged.
#[derive(Clone)]
pub(super) struct Token(Arc<[u8]>);

/// Why a request was not authenticated; said in logs and to the client, never with the
/// token it carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not one `Bearer <token>`.
    Malformed,
    /// A bearer token other than the endpoint's.
    Wrong,
}

impl Refusal {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Refusal::Missing => "the request has no `Authorization: Bearer <token>` header",
            Refusal::Malformed => "the `Authorization` header is not one `Bearer <token>`",
            Refusal::Wrong => "the bearer token is not the admin token",
        }
    }
}

impl Token {
    /// Checks a token given by the operator: present, at least [`MIN_TOKEN_LEN`] bytes,
    /// and made of characters a header can carry as they are.
    pub(super) fn new(token: Option<&str>) -> Result<Self, AdminError> {
        let token = match token {
            None | Some("") => return Err(AdminError::MissingToken),
            Some(token) => token,
        };
        if token.len() < MIN_TOKEN_LEN {
            return Err(AdminError::ShortToken { len: token.len() });
        }
        // A space, a control character (a trailing newline from a file) or a non-ASCII
        // character could never arrive intact in the header: refuse it now rather than
        // refuse every request later.
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AdminError::InvalidToken);
        }
        Ok(Self(token.as_bytes().into()))
    }

    /// Whether the request carries this token as `Authorization: Bearer <token>`.
    pub(super) fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = match (values.next(), values.next()) {
            (None, _) => return Err(Refusal::Missing),
            (Some(value), None) => value.as_bytes(),
            (Some(_), Some(_)) => return Err(Refusal::Malformed),
        };
        let Some(given) = bearer_token(value) else {
            return Err(Refusal::Malformed);
        };
        if self.matches(given) {
            Ok(())
        } else {
            Err(Refusal::Wrong)
        }
    }

    /// Compares in time that depends on the given token's length only: every byte given
    /// is compared with a byte of the real token (cycling through it), and the lengths are
    /// compared as numbers, so neither a mismatch's position nor the real length shows.
    fn matches(&self, given: &[u8]) -> bool {
        let expected = &self.0;
        let mut same = expected.len().ct_eq(&given.len());
        for (byte, wanted) in given.iter().zip(expected.iter().cycle()) {
            same &= byte.ct_eq(wanted);
        }
        same.into()
    }
}

/// The token of a `Bearer <token>` header value; the scheme's case does not matter.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    let scheme = value.get(..SCHEME.len())?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let token = value[SCHEME.len()..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const TOKEN: &str = "0123456789abcdef-secret";

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn accepts_the_token_with_any_case_of_the_scheme() {
        let token = Token::new(Some(TOKEN)).unwrap();
        for value in [format!("Bearer {TOKEN}"), format!("bearer  {TOKEN}")] {
            assert_eq!(token.check(&headers(&[&value])), Ok(()), "{value}");
        }
    }

    #[test]
    fn refuses_missing_malformed_and_wrong_tokens() {
        let token = Token::new(Some(TOKEN)).unwrap();
        assert_eq!(token.check(&headers(&[])), Err(Refusal::Missing));
        for value in ["Basic abc", "Bearer", "Bearer ", TOKEN] {
            assert_eq!(
                token.check(&headers(&[value])),
                Err(Refusal::Malformed),
                "{value}"
            );
        }
        let twice = format!("Bearer {TOKEN}");
        assert_eq!(
            token.check(&headers(&[&twice, &twice])),
            Err(Refusal::Malformed)
        );
        let longer = format!("Bearer {TOKEN}{TOKEN}");
        let shorter = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
        let other = format!("Bearer {}X", &TOKEN[..TOKEN.len() - 1]);
        for value in [longer, shorter, other] {
            assert_eq!(
                token.check(&headers(&[&value])),
                Err(Refusal::Wrong),
                "{value}"
            );
        }
    }

    #[test]
    fn refuses_to_make_a_short_missing_or_unsendable_token() {
        assert!(matches!(Token::new(None), Err(AdminError::MissingToken)));
        assert!(matches!(
            Token::new(Some("")),
            Err(AdminError::MissingToken)
        ));
        assert!(matches!(
            Token::new(Some("fifteen-bytes!!")),
            Err(AdminError::ShortToken { len: 15 })
        ));
        assert!(matches!(
            Token::new(Some("0123456789abcdef\n")),
            Err(AdminError::InvalidToken)
        ));
        assert!(Token::new(Some("sixteen-bytes!!!")).is_ok());
    }
}
