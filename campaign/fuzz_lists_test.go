package campaign_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// FuzzSuppressionList feeds arbitrary bytes to the loader as a suppression list: it must not
// panic, every problem must name the list at a line, and every entry read must be E.164.
func FuzzSuppressionList(f *testing.F) {
	for _, s := range []string{
		"number,reason,date\n+41793026731,STOP,2026-11-30\n",
		"\uFEFFName,To,Date\r\nAnn,079 302 67 31,2026-02-30\r\n",
		"number\n\"+41\n",
		"reason\nx\n",
		"number,number\n1,2\n",
		"",
		"number,date\n079 302 67 31,\n12,2026-13-01\n,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"c.yaml": lines("id: c1", "from: Shop", "text: Hi", "default_region: CH", `destinations: [{to: "+41793026731"}]`, "suppression_lists: [s.csv]"),
		})
		list := filepath.Join(dir, "s.csv")
		if err := os.WriteFile(list, data, 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := campaign.Load(dir)
		if err != nil {
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Load: %v (%T), want a *ValidationError with problems", err, err)
			}
			for _, p := range ve.Problems {
				if p.File != list || p.Line < 1 {
					t.Fatalf("problem not at a line of the list: %v", p)
				}
			}
			return
		}
		for _, e := range set.SuppressionLists[0].Entries {
			if n, msg := campaign.Normalize(e.Number, ""); msg != "" || n != e.Number {
				t.Fatalf("entry %+v is not E.164", e)
			}
		}
	})
}

// FuzzLoadPrices: a prices file of any bytes loads or fails with problems at its lines, and
// never panics.
func FuzzLoadPrices(f *testing.F) {
	for _, s := range []string{
		"prefix,price,currency\nCH,0.0725,CHF\n+4179,0.065,CHF\n",
		"prefix,price,currency\nCH,1e3,CHF\nCH,0.1,chf\n",
		"prefix,price,currency\n+1,999.999999,USD\nUS,1000,USD\n",
		"",
		"a,b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "prices.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := campaign.LoadPrices(path)
		if err != nil {
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("LoadPrices: %v (%T), want a *ValidationError with problems", err, err)
			}
			for _, pr := range ve.Problems {
				if pr.File != path {
					t.Fatalf("problem not in the prices file: %v", pr)
				}
			}
			return
		}
		if price, _, ok := p.Find("+41793026731"); ok && price.Amount < 0 {
			t.Fatalf("negative price %v", price)
		}
	})
}
