package safetext

import (
	"regexp"
	"strings"
)

// redacted stands where RedactURL removed something that may be a credential.
const redacted = "REDACTED"

// scheme matches a URL's scheme and its "://", after leading blanks.
var scheme = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9+.-]*)://`)

// URLScheme is the scheme of s, lower-cased, when s is written as a URL (scheme://...);
// "" otherwise. The scheme is matched whatever its case, as RFC 3986 says: POSTGRES:// is
// postgres://.
func URLScheme(s string) string {
	m := scheme.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return strings.ToLower(m[1])
}

// plainName is a user name that is shown: a PostgreSQL role as people write them.
var plainName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,63}$`)

// plainHost is a URL's host part that is shown: host names or addresses, each with an
// optional numeric port, comma-separated (PostgreSQL takes several).
var plainHost = regexp.MustCompile(`^(?:(?:[A-Za-z0-9._%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:,|$))*$`)

// plainValue is a query parameter's value that is shown: no escapes, no separators that a
// password cut in pieces by a stray '&' could hide behind.
var plainValue = regexp.MustCompile(`^[A-Za-z0-9._~/,:+-]{0,200}$`)

// shownParams are the query parameters RedactURL keeps: settings of a PostgreSQL
// connection that are never secret. Any other parameter (password, sslpassword, a key,
// a token, or the piece of a password after a '&' it held) is dropped.
var shownParams = map[string]bool{
	"sslmode": true, "sslrootcert": true, "sslcert": true, "sslnegotiation": true, "sslsni": true,
	"connect_timeout": true, "application_name": true, "target_session_attrs": true,
	"channel_binding": true, "min_protocol_version": true, "max_protocol_version": true,
	"gssencmode": true, "load_balance_hosts": true, "search_path": true, "timezone": true,
	"pool_max_conns": true, "pool_min_conns": true, "pool_max_conn_lifetime": true,
	"pool_max_conn_idle_time": true, "pool_health_check_period": true,
	"statement_cache_capacity": true, "description_cache_capacity": true, "default_query_exec_mode": true,
}

// RedactURL is s, a URL that may hold credentials (a state's postgres:// URL, an API's base
// URL), as it may be printed and saved: scheme, host, port, path and the query parameters
// known to be harmless, a PostgreSQL URL's user name, and nothing else. It does not trust
// the URL to be well formed, since a password holding '/', '?', '#', '@' or '%' is exactly
// what a URL parser reads wrongly: everything up to the last '@' is taken for the user and
// password, a query keeps only known parameters with plain values, and a fragment is
// dropped. A string that is not a URL is returned as it is.
func RedactURL(s string) string {
	sch := URLScheme(s)
	if sch == "" {
		return s
	}
	rest := s[len(scheme.FindString(s)):]
	var b strings.Builder
	b.WriteString(sch)
	b.WriteString("://")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, _, _ := strings.Cut(rest[:at], ":")
		if (sch == "postgres" || sch == "postgresql") && plainName.MatchString(user) {
			b.WriteString(user)
		} else {
			b.WriteString(redacted)
		}
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, hasQuery := strings.Cut(rest, "?")
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if !plainHost.MatchString(host) {
		// "user:password" without its '@', or worse: not a host to show.
		host = redacted
	}
	b.WriteString(host + path)
	if hasQuery {
		sep := "?"
		for _, pair := range strings.Split(query, "&") {
			key, value, _ := strings.Cut(pair, "=")
			if shownParams[key] && plainValue.MatchString(value) {
				b.WriteString(sep + pair)
				sep = "&"
			}
		}
	}
	return b.String()
}
