//! Masking credentials before text is stored or logged: a URL's `user:password@` (as SNS http
//! endpoints may carry for basic auth) keeps the user and shows `****` for the password.

/// `text` with the password of every `scheme://user:password@host` in it replaced by `****`.
pub fn mask_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(a) => {
                let userinfo = &authority[..a];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":****");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[a..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn passwords_in_urls_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_url_credentials("POST https://ops:s3cret@hooks.example.com/x?a=b failed"),
            "POST https://ops:****@hooks.example.com/x?a=b failed"
        );
        assert_eq!(
            mask_url_credentials("http://u:p@a.example and http://v:q@b.example/"),
            "http://u:****@a.example and http://v:****@b.example/"
        );
        assert_eq!(
            mask_url_credentials("the endpoint answered 503"),
            "the endpoint answered 503"
        );
        assert_eq!(
            mask_url_credentials("http://user@host/path"),
            "http://user@host/path",
            "a user without a password is not secret"
        );
        assert_eq!(
            mask_url_credentials("http://host/a@b:c"),
            "http://host/a@b:c",
            "an @ in the path is not userinfo"
        );
        assert_eq!(mask_url_credentials("x://"), "x://");
    }

    proptest! {
        #[test]
        fn a_password_never_survives(user in "[a-z]{1,8}", password in "[A-Za-z0-9]{4,16}",
                                     host in "[a-z]{1,10}\\.example", tail in "[ /a-z?=]{0,20}") {
            let text = format!("error sending to https://{user}:{password}@{host}{tail}");
            let masked = mask_url_credentials(&text);
            let userinfo = format!(":{password}@");
            prop_assert!(!masked.contains(&userinfo));
            let kept = format!("https://{user}:****@{host}");
            prop_assert!(masked.contains(&kept));
        }

        #[test]
        fn any_text_is_handled(text in "\\PC{0,80}") {
            let _ = mask_url_credentials(&text);
        }
    }
}
