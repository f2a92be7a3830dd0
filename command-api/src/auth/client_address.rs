//! The network a request comes from, for throttling: the TCP peer, or, behind a configured number
//! of trusted proxies, the address the outermost trusted proxy saw (`Forwarded`, else
//! `X-Forwarded-For`). Entries further left were written by the client and are never believed.
//! IPv6 clients are grouped by /64, the block one subscriber usually holds, so rotating through
//! it does not buy fresh budgets.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The throttling key of the client that sent `req`, with `trusted_hops` proxies in front of us.
pub fn client_network(req: &HttpRequest, trusted_hops: usize) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    if trusted_hops == 0 {
        return peer.map_or_else(|| "unknown".to_owned(), network_of);
    }
    let mut chain = forwarded_chain(req);
    chain.push(peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()));
    // The last `trusted_hops` entries are our proxies (the peer among them); the one before them
    // is who the outermost trusted proxy saw.
    let index = chain.len().saturating_sub(trusted_hops + 1);
    let hop = &chain[index];
    match parse_ip(hop) {
        Some(ip) => network_of(ip),
        // An obfuscated or unknown hop (RFC 7239 allows both) stays a key of its own.
        None => format!("opaque:{}", hop.chars().take(64).collect::<String>()),
    }
}

/// The hops proxies recorded, nearest to the client first.
fn forwarded_chain(req: &HttpRequest) -> Vec<String> {
    let forwarded: Vec<String> = req
        .headers()
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    req.headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().to_owned())
        .filter(|hop| !hop.is_empty())
        .collect()
}

/// An address from a hop: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_ip(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    hop.rsplit_once(':')?.0.parse().ok()
}

fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr("10.0.0.7:5000".parse().unwrap());
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn without_trusted_proxies_the_peer_counts_and_headers_are_ignored() {
        let req = request(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_network(&req, 0), "10.0.0.7");
    }

    #[test]
    fn one_trusted_proxy_means_the_address_it_appended() {
        // The client wrote the first entry itself; our proxy appended the second.
        let req = request(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9")]);
        assert_eq!(client_network(&req, 1), "203.0.113.9");
        let req = request(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(client_network(&req, 1), "203.0.113.9");
        assert_eq!(client_network(&req, 2), "198.51.100.1");
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_ports_and_brackets_are_dropped() {
        let req = request(&[
            (
                "forwarded",
                r#"for=192.0.2.60;proto=https, for="[2001:db8:cafe:1:2::17]:4711""#,
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(client_network(&req, 1), "2001:db8:cafe:1::/64");
        assert_eq!(client_network(&req, 2), "192.0.2.60");
        let req = request(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_network(&req, 1), "opaque:_hidden");
    }

    #[test]
    fn a_short_chain_falls_back_to_its_first_entry_and_v6_groups_by_64() {
        let req = request(&[]);
        assert_eq!(client_network(&req, 3), "10.0.0.7");
        let a = parse_ip("2001:db8:1:2:aaaa::1").map(network_of);
        let b = parse_ip("2001:db8:1:2:bbbb::9").map(network_of);
        assert_eq!(a, b);
        assert_eq!(
            parse_ip("192.0.2.1:80").map(network_of).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            parse_ip("::ffff:192.0.2.1").map(network_of).as_deref(),
            Some("192.0.2.1")
        );
    }
}
