package infobip

import (
	"strings"
	"testing"
)

// TestParseBaseURL: a base URL with anything that may be a credential (an '@' anywhere, a
// query, a fragment) is refused without printing it; a bare one is taken.
func TestParseBaseURL(t *testing.T) {
	const pw = "S3CR3T"
	for _, raw := range []string{
		"https://user:" + pw + "@x.api.infobip.com",
		"https://user:pa/ss" + pw + "@x.api.infobip.com",
		"https://user:1234/" + pw + "@x.api.infobip.com",
		"https://" + pw + "@x.api.infobip.com",
		"https://x.api.infobip.com/?apikey=" + pw,
		"https://x.api.infobip.com#" + pw,
		"https://user:p%zz" + pw + "@x.api.infobip.com",
		"user:" + pw + "@x.api.infobip.com",
	} {
		if _, err := ParseBaseURL(raw); err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("ParseBaseURL(%q): %v; want a refusal that does not print the secret", raw, err)
		}
	}
	for raw, host := range map[string]string{"https://x.api.infobip.com": "x.api.infobip.com", " HTTPS://x.api.infobip.com/ ": "x.api.infobip.com", "http://127.0.0.1:9433": "127.0.0.1:9433"} {
		u, err := ParseBaseURL(raw)
		if err != nil || u.Host != host {
			t.Errorf("ParseBaseURL(%q) = %v, %v; want host %s", raw, u, err, host)
		}
	}
}
