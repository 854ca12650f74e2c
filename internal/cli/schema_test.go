package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/schema"
)

// TestJSONOutputsMatchSchemas runs every command with -json on a state that has every
// outcome (sent, changed, unknown, failed, suppressed, orphaned, opted out, converted),
// and checks each output against its schema under schema/: the JSON contract is what
// smsform prints. Every member a schema describes must also show in some output here, so
// a schema describes nothing smsform does not write; those only a fault or a signal
// brings are listed in rare.
func TestJSONOutputsMatchSchemas(t *testing.T) {
	sb := sandbox.New(sandbox.Options{RejectTo: []string{"447911123462"}})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	dir := t.TempDir()
	files := func(m map[string]string) {
		t.Helper()
		for name, content := range m {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := map[string]string{"INFOBIP_BASE_URL": srv.URL, "INFOBIP_API_KEY": "k"}
	st := filepath.Join(dir, "st.db")
	c := filepath.Join(dir, "c")

	seen := map[string]map[string]bool{} // schema -> member names met in its outputs
	checked := map[string]int{}
	check := func(name string, wantCode int, args ...string) any {
		t.Helper()
		code, out, errs := run(t, env, false, args...)
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, wantCode, out, errs)
		}
		sch, err := schema.Output(name)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		if err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s does not match schema/%s.schema.json: %v\n%s", strings.Join(args, " "), name, err, out)
		}
		if seen[name] == nil {
			seen[name] = map[string]bool{}
		}
		members(doc, seen[name])
		checked[name]++
		return doc
	}

	files(map[string]string{
		"c/promo.yaml": "id: promo\nfrom: ShopCo\ntext: \"Hi {{.name}}, 20% off.\"\nlabels: {team: growth}\ndestinations:\n" +
			"  - {to: \"+447911123460\", vars: {name: Ann}}\n  - {to: \"+447911123461\", vars: {name: Ben}}\n  - {to: \"+447911123462\", vars: {name: Cleo}}\n",
		"c/otp.yaml": "id: otp\nfrom: InfoSMS\npurpose: transactional\ntracking: {track: SMS, type: One_Time_Pin}\ntext: \"Code {{.code}}\"\ndestinations:\n" +
			"  - {to: \"+41793026731\", vars: {code: \"1234\"}}\n  - {to: \"+41793026732\", vars: {code: \"5678\"}}\n",
		// An experiment: half of the recipients in the test, the rest held (no winner).
		"c/exp.yaml": "id: exp\nfrom: ShopCo\ntracking: {track: SMS, type: Sale}\nvariants:\n  - {name: short, text: \"Sale today\"}\n" +
			"  - {name: personal, text: \"Hi {{.name}}, sale today\"}\nexperiment: {sample: 50%}\ndestinations:\n" +
			"  - {to: \"+41793026741\", vars: {name: Ann}}\n  - {to: \"+41793026742\", vars: {name: Ben}}\n  - {to: \"+41793026743\", vars: {name: Cid}}\n" +
			"  - {to: \"+41793026744\", vars: {name: Dan}}\n  - {to: \"+41793026745\", vars: {name: Eve}}\n  - {to: \"+41793026746\", vars: {name: Fay}}\n",
	})
	if code, out, errs := run(t, env, false, "init", "-state", st); code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out, errs)
	}

	// Sent, and one rejected (failed); then one whose answer is lost (unknown).
	check("apply", ExitPartial, "apply", "-json", "-auto-approve", "-state", st, c)
	files(map[string]string{"c/promo.yaml": strings.Replace(readFile(t, filepath.Join(c, "promo.yaml")), "  - {to: \"+447911123462\"", "  - {to: \"+447911123463\", vars: {name: Dan}}\n  - {to: \"+447911123462\"", 1)})
	sb.SetFaults(sandbox.Faults{DropRate: 1})
	doc := check("apply", ExitPartial, "apply", "-json", "-auto-approve", "-state", st, c)
	if p := doc.(map[string]any)["problems"].([]any); len(p) != 1 || p[0].(map[string]any)["state"] != "unknown" {
		t.Fatalf("the second apply left no unknown outcome: %v", doc)
	}
	sb.SetFaults(sandbox.Faults{})

	// The pull request: promo's text changed, Ben removed (orphaned), Eve suppressed, Fay
	// new; a campaign with quiet hours in zones around the world, some of them in their
	// night whenever the test runs; prices.
	files(map[string]string{
		"c/promo.yaml": "id: promo\nfrom: ShopCo\ntext: \"Hello {{.name}}, 20% off.\"\nlabels: {team: growth}\nsuppression_lists: [stop.csv]\ndestinations:\n" +
			"  - {to: \"+447911123460\", vars: {name: Ann}}\n  - {to: \"+447911123463\", vars: {name: Dan}}\n  - {to: \"+447911123462\", vars: {name: Cleo}}\n" +
			"  - {to: \"+447911123464\", vars: {name: Eve}}\n  - {to: \"+447911123465\", vars: {name: Fay}}\n",
		"c/stop.csv": "number,reason,date\n+447911123464,asked at the counter,2026-01-02\n",
		"c/night.yaml": "id: night\nfrom: InfoSMS\ntext: Hello\nquiet_hours: {from: \"21:00\", to: \"08:00\"}\ndestinations:\n" +
			"  - {to: \"+12015550123\"}\n  - {to: \"+14155550123\"}\n  - {to: \"+18085550123\"}\n  - {to: \"+41793026733\"}\n" +
			"  - {to: \"+919876543210\"}\n  - {to: \"+819012345678\"}\n  - {to: \"+61291234567\"}\n  - {to: \"+5511912345678\"}\n",
		"prices.csv": "prefix,price,currency\nCH,0.0725,CHF\nGB,0.038,GBP\nUS,0.01,USD\n",
	})
	plan := check("plan", ExitChanges, "plan", "-json", "-detailed-exitcode", "-prices", filepath.Join(dir, "prices.csv"), "-state", st, c)
	actions := map[string]bool{}
	for _, cp := range plan.(map[string]any)["campaigns"].([]any) {
		for _, m := range cp.(map[string]any)["messages"].([]any) {
			actions[m.(map[string]any)["action"].(string)] = true
		}
	}
	for _, a := range []string{"send", "noop", "changed", "unknown", "failed", "suppressed", "held"} {
		if !actions[a] {
			t.Errorf("the plan checked has no message with action %q", a)
		}
	}

	// A contact policy: at most 1 marketing message per number in 7 days, consent required,
	// a limit of 1 message and 0.01 CHF. deal-a (scheduled) goes first by priority and
	// deal-b is capped; the plan is over the limits; apply, approved, records the capped
	// messages and the consent evidence of the others.
	files(map[string]string{
		"policy/smsform.yaml": "contact_policy:\n  marketing: {max: 1, per: 7d}\nconsent:\n  marketing: required\n  column: consent_at\n" +
			"  source_column: consent_source\nlimits:\n  max_messages: 1\n  max_cost: {CHF: \"0.01\"}\n",
		"policy/deal-a.yaml": "id: deal-a\npriority: 1\nfrom: ShopCo\ntext: Deal A\nsend_at: " + time.Now().Add(36*time.Hour).UTC().Format(time.RFC3339) + "\ndestinations_file: people.csv\n",
		"policy/deal-b.yaml": "id: deal-b\nfrom: ShopCo\ntext: Deal B\ndestinations_file: people.csv\n",
		"policy/people.csv":  "to,consent_at,consent_source\n+41793026740,2026-01-15,web form\n+41793026741,2026-02-01T10:00:00Z,shop\n",
	})
	policy := filepath.Join(dir, "policy")
	check("validate", 0, "validate", "-json", policy)
	doc = check("plan", 0, "plan", "-json", "-prices", filepath.Join(dir, "prices.csv"), "-state", st, policy)
	if sum := doc.(map[string]any)["summary"].(map[string]any); fmt.Sprint(sum["send"]) != "2" || fmt.Sprint(sum["capped"]) != "2" || len(doc.(map[string]any)["over_limit"].([]any)) != 2 {
		t.Fatalf("the policy plan caps %v of 2 and goes over %v (want both limits)", sum["capped"], doc.(map[string]any)["over_limit"])
	}
	check("apply", 0, "apply", "-json", "-auto-approve", "-allow-over-limit", "2", "-state", st, policy)
	check("plan", 0, "plan", "-json", "-state", st, policy)

	// Replies: a STOP and one from a sender that is no number; the unknown one is found.
	for _, body := range []string{`{"from":"41793026739","text":"STOP"}`, `{"from":"999793026799","text":"hi"}`} {
		resp, err := http.Post(srv.URL+"/sandbox/inbound", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("queue a reply: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	check("refresh", 0, "refresh", "-json", "-state", st)

	files(map[string]string{"events.csv": "event,campaign,phone\nlogin,otp,+41793026731\nlogin,otp,+41793026799\n"})
	check("convert", 0, "convert", "-json", "-state", st, filepath.Join(dir, "events.csv"))
	check("report", 0, "report", "-json", "-state", st)
	check("report", 0, "report", "-json", "-by", "country", "-state", st)
	// The experiment's winner named: the held are sent it, and the decision recorded.
	files(map[string]string{"c/exp.yaml": strings.Replace(readFile(t, filepath.Join(c, "exp.yaml")), "experiment: {sample: 50%}", "experiment: {sample: 50%, winner: personal}", 1)})
	if code, out, errs := run(t, env, false, "apply", "-auto-approve", "-state", st, c); code != 0 {
		t.Fatalf("apply with a winner: exit %d\n%s%s", code, out, errs)
	}
	check("report-variant", 0, "report", "-json", "-by", "variant", "-state", st)

	files(map[string]string{
		"lint/a.yaml": "id: a\nfrom: Shop\ntext: \"It\u2019s on\"\ndestinations: [{to: \"+41793026731\"}]\n",
		"bad/b.yaml":  "id: b\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41 79 302\"}]\n",
	})
	check("validate", 0, "validate", "-json", filepath.Join(dir, "lint"))
	check("validate", ExitError, "validate", "-json", filepath.Join(dir, "bad"))

	check("test-send", 0, "test-send", "-json", "-state", st, "-to", "+41793026738", "-campaign", "otp", c)
	check("state-list", 0, "state", "list", "-json", "-state", st)
	check("state-list", 0, "state", "show", "-json", "-state", st, "+447911123462")
	check("state-list", 0, "state", "show", "-json", "-state", st, "+41793026740")

	for _, args := range [][]string{
		{"state", "opt-outs", "add", "-state", st, "-by", "ann", "-reason", "phoned", "+41793026737"},
		{"state", "opt-outs", "remove", "-state", st, "-by", "bob", "-reason", "subscribed again", "+41793026737"},
	} {
		if code, out, errs := run(t, env, false, args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", args, code, out, errs)
		}
	}
	check("state-opt-outs", 0, "state", "opt-outs", "-json", "-all", "-state", st)

	// Every schema was checked against real output, and every member it describes was met,
	// but for those only a fault, a signal or a flood of problems brings.
	rare := map[string]bool{"stopped": true, "problems_not_listed": true, "unreadable_times": true}
	for _, name := range schema.Outputs() {
		if checked[name] == 0 {
			t.Errorf("no output checked against schema/%s.schema.json", name)
			continue
		}
		for _, m := range declared(t, name) {
			if !seen[name][m] && !rare[m] {
				t.Errorf("schema/%s.schema.json describes %q, which no output here has", name, m)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// members adds the names of every object member in v, at any depth, to seen (but not the
// keys of free-form maps, such as labels and unpriced_by, which hold data).
func members(v any, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			seen[k] = true
			if k != "labels" && k != "unpriced_by" {
				members(x, seen)
			}
		}
	case []any:
		for _, x := range v {
			members(x, seen)
		}
	}
}

// declared lists the member names a schema describes (the keys of its "properties").
func declared(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "schema", name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "properties" {
					for p := range x.(map[string]any) {
						names = append(names, p)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var doc any
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
	slices.Sort(names)
	return slices.Compact(names)
}
