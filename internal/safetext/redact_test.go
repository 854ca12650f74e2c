package safetext

import (
	"strings"
	"testing"
)

// TestRedactURL: whatever a URL's shape, its password, a user that may be a token, and
// every query parameter not known to be harmless are gone; what identifies the state or the
// API (scheme, user role, host, port, database, sslmode) stays.
func TestRedactURL(t *testing.T) {
	const pw = "S3CR3T"
	for in, want := range map[string]string{
		"postgres://u:" + pw + "@h:5432/db?sslmode=require":           "postgres://u@h:5432/db?sslmode=require",
		"postgresql://u@h/db":                                         "postgresql://u@h/db",
		"postgres://h/db?password=" + pw + "&sslmode=disable":         "postgres://h/db?sslmode=disable",
		"POSTGRES://u:" + pw + "@h/db":                                "postgres://u@h/db",
		"PostgreSQL://u:" + pw + "@h/db":                              "postgresql://u@h/db",
		"  postgres://u:" + pw + "@h/db":                              "postgres://u@h/db",
		"postgres://u:pa/ss" + pw + "@h/db":                           "postgres://u@h/db",
		"postgres://u:1234/" + pw + "@h/db":                           "postgres://u@h/db",
		"postgres://u:p@ss" + pw + "@h:5432/db":                       "postgres://u@h:5432/db",
		"postgres://u:p?x=" + pw + "@h/db":                            "postgres://u@h/db",
		"postgres://u:p#" + pw + "@h/db":                              "postgres://u@h/db",
		"postgres://u:p%zz" + pw + "@h/db":                            "postgres://u@h/db",
		"postgres://u@h/db?sslmode=disable&sslpassword=" + pw:         "postgres://u@h/db?sslmode=disable",
		"postgres://u@h/db?SSLPassword=" + pw + "&sslmode=disable":    "postgres://u@h/db?sslmode=disable",
		"postgres://u@h/db?password=a&" + pw + "&sslmode=disable":     "postgres://u@h/db?sslmode=disable",
		"postgres://u@h/db?sslmode=disable&password=" + pw + "#" + pw: "postgres://u@h/db?sslmode=disable",
		"postgres://u@h/db?sslmode=" + pw + "%26":                     "postgres://u@h/db",
		"postgres://h/db?application_name=a@" + pw:                    "postgres://REDACTED@" + pw,  // ambiguous: the host is lost, never a secret shown
		"postgres://" + pw + ":x@h/db":                                "postgres://" + pw + "@h/db", // the role, as written
		"postgres://u:" + pw:                                          "postgres://REDACTED",
		"postgres://h1:5432,h2:5433/db":                               "postgres://h1:5432,h2:5433/db",
		"postgres://[::1]:5432/db":                                    "postgres://[::1]:5432/db",
		"postgres:///db?host=%2Ftmp":                                  "postgres:///db",
		"mysql://u:" + pw + "@h/db":                                   "mysql://REDACTED@h/db",
		"https://" + pw + "@example.com":                              "https://REDACTED@example.com",
		"https://user:" + pw + "/x@example.com":                       "https://REDACTED@example.com",
		"https://example.com/?apikey=" + pw:                           "https://example.com/",
		"https://example.com/#" + pw:                                  "https://example.com/",
		"smsform.db":                                                  "smsform.db",
		"./postgres://u:x@h":                                          "./postgres://u:x@h",
	} {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q)\n = %q\nwant %q", in, got, want)
		}
		if strings.Contains(got, pw) && !strings.Contains(want, pw) {
			t.Errorf("RedactURL(%q) shows the password", in)
		}
	}
}

func TestURLScheme(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://x": "postgres", "POSTGRESQL://x": "postgresql", " https://x": "https",
		"smsform.db": "", "./postgres://x": "", "file:x.db": "", "c:\\state.db": "",
	} {
		if got := URLScheme(in); got != want {
			t.Errorf("URLScheme(%q) = %q, want %q", in, got, want)
		}
	}
}
