//! Who a request really comes from, behind reverse proxies: `--trusted-proxies CIDR,...`.
//!
//! From a trusted proxy's address, the client is read from `X-Forwarded-For` (and the
//! standard `Forwarded: for=`), right to left, skipping hops that are themselves trusted
//! proxies (as nginx's `real_ip_recursive`): the first untrusted address is the client. From
//! any other address these headers are ignored (anyone can send them), and the socket's
//! address is the client. The result is what the per-IP cap counts and the logs show.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose forwarding headers are believed (`ServerConfig::trusted_proxies`).
#[derive(Clone, Copy, Debug)]
pub struct TrustedProxies<'a>(pub &'a [IpNet]);

/// Parses `10.0.0.0/8,192.168.1.7` (a bare address is a /32 or /128).
pub fn parse_trusted_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    let mut nets = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let net = match part.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => part
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| format!("{part:?} is neither an address nor a CIDR range"))?,
        };
        nets.push(net);
    }
    Ok(nets)
}

impl TrustedProxies<'_> {
    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops = forwarded_for(headers);
        let mut client = peer;
        while let Some(hop) = hops.pop() {
            match hop {
                Some(ip) if self.trusts(ip) => client = ip,
                Some(ip) => return ip,
                // A hop that is not an address: the last trusted one is as far as we can see.
                None => return client,
            }
        }
        client
    }
}

/// The addresses of `X-Forwarded-For` and `Forwarded: for=`, leftmost (the original client)
/// first; `None` for an entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("forwarded") {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in value.split(',') {
            for pair in element.split(';') {
                let Some((key, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if key.trim().eq_ignore_ascii_case("for") {
                    hops.push(parse_node(value.trim().trim_matches('"')));
                }
            }
        }
    }
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(value.split(',').map(|hop| parse_node(hop.trim())));
    }
    hops
}

/// `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]`, `[2001:db8::1]:80`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    let (host, _port) = node.rsplit_once(':')?;
    host.parse().ok().map(canonical)
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_address_are_ignored() {
        let nets = parse_trusted_proxies("10.0.0.0/8").unwrap();
        let proxies = TrustedProxies(&nets);
        let forged = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &forged),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies(&[]).client(ip("127.0.0.1"), &forged),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn from_a_trusted_proxy_the_first_untrusted_hop_from_the_right_is_the_client() {
        let nets = parse_trusted_proxies("10.0.0.0/8, 192.168.1.7").unwrap();
        let proxies = TrustedProxies(&nets);
        // The client put a fake address first; the proxies appended what they saw.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 192.168.1.7")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &chain), ip("198.51.100.4"));
        let standard = headers(&[(
            "forwarded",
            "for=\"[2001:db8::1]:4711\";proto=https, for=192.168.1.7",
        )]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &standard), ip("2001:db8::1"));
        // No header: the proxy itself.
        assert_eq!(
            proxies.client(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
        // Garbage stops the walk at the last trusted hop.
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &garbage), ip("10.1.2.3"));
        // An IPv4-mapped peer is its IPv4 address.
        assert_eq!(
            proxies.client(
                ip("::ffff:10.0.0.1"),
                &headers(&[("x-forwarded-for", "198.51.100.9")])
            ),
            ip("198.51.100.9")
        );
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxies("proxy.local").is_err());
    }
}
