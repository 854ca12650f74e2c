package runner

import (
	"context"
	"time"

	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/state"
)

// SaveHTMLReport reads the report of campaignID (all campaigns when "") split by by, as
// BuildReport does, and writes it as a self-contained HTML page to path (WriteHTML).
// Without a split, the page's second chart is per day sent: that view is read too.
// The file is 0644 whatever the umask: the page holds counts and rates, no numbers or
// secrets, and is made to be shared (a CI artifact, a web server); a group- or
// world-writable report could be altered before it is read. It is never written through a
// link: its target would be overwritten and chmodded.
func SaveHTMLReport(ctx context.Context, store state.Reader, campaignID, by, path string, now time.Time) (*Report, error) {
	r, err := BuildReport(ctx, store, campaignID, by)
	if err != nil {
		return nil, err
	}
	var daily *Report
	if r.By == "" {
		if daily, err = BuildReport(ctx, store, campaignID, ByDay); err != nil {
			return nil, err
		}
	}
	f, err := safefile.Create(path, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return nil, err
	}
	if err := r.WriteHTML(f, daily, now); err != nil {
		f.Close()
		return nil, err
	}
	return r, f.Close()
}
