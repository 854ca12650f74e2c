package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/smsform/smsform/runner"
)

// TestPlanPolicyRecipe runs the README's merge gate, examples/policy/plan.jq, on the plan
// of the examples as `plan -json` writes it: over the limit it
// refuses with the reason unless the pull request has the label; under it, or with the
// label, it passes; a plan of another major format version is refused. plan.rego, the
// same check for conftest, must name the same limit and label.
func TestPlanPolicyRecipe(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatal("the policy recipe is tested with jq; install it to run this test (apt-get install -y jq)")
	}
	_, p := examplesPlan(t, runner.PlanOptions{})
	var plan bytes.Buffer
	if err := p.WriteJSON(&plan); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(planFile, plan.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join("examples", "policy", "plan.jq")
	gate := func(file, max, labels string) (bool, string) {
		out, err := exec.Command("jq", "-e", "--argjson", "max", max, "--argjson", "labels", labels, "-f", policy, file).CombinedOutput()
		if err != nil && exitCodeOf(err) != 5 {
			t.Fatalf("jq: %v\n%s", err, out)
		}
		return err == nil, string(out)
	}
	n := p.Summary.Send
	under, at := strconv.Itoa(n-1), strconv.Itoa(n)
	for _, tt := range []struct {
		max, labels string
		pass        bool
	}{
		{under, `[]`, false},
		{under, `["documentation"]`, false},
		{under, `["documentation", "large-send-approved"]`, true},
		{at, `[]`, true},
		{"10000", `[]`, true},
	} {
		pass, out := gate(planFile, tt.max, tt.labels)
		if pass != tt.pass {
			t.Errorf("max %s, labels %s: passed %v, want %v\n%s", tt.max, tt.labels, pass, tt.pass, out)
		}
		if want := fmt.Sprintf("this plan sends %d messages, more than %s: a maintainer must add the pull-request label large-send-approved", n, under); !pass && !strings.Contains(out, want) {
			t.Errorf("max %s, labels %s: the refusal does not say why:\n%s", tt.max, tt.labels, out)
		}
	}
	// A plan of another major version is refused, whatever it sends.
	v2 := filepath.Join(dir, "plan-v2.json")
	if err := os.WriteFile(v2, bytes.Replace(plan.Bytes(), []byte(`"format_version":"`+runner.PlanFormatVersion+`"`), []byte(`"format_version":"2.0"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if pass, out := gate(v2, "10000", `["large-send-approved"]`); pass || !strings.Contains(out, "plan format_version 2.0: this policy reads 1.x") {
		t.Errorf("a 2.0 plan passes the gate:\n%s", out)
	}

	// The Rego policy for conftest makes the same check.
	rego, err := os.ReadFile(filepath.Join("examples", "policy", "plan.rego"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"max_messages := 10000\n", `approval_label := "large-send-approved"`, "input.summary.send > max_messages",
		"approval_label in data.pull_request.labels", "`^1(\\.[0-9]+)?$`",
	} {
		if !strings.Contains(string(rego), want) {
			t.Errorf("plan.rego lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^package main$`).Match(rego) {
		t.Error("plan.rego is not in package main, where conftest looks for deny rules")
	}
	// The README shows the policy as the file has it, without its comments.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```rego\n(.*?)```").FindSubmatch(readme)
	var code []string
	for _, line := range strings.SplitAfter(string(rego), "\n") {
		if !strings.HasPrefix(line, "#") && !(len(code) == 0 && line == "\n") {
			code = append(code, line)
		}
	}
	if m == nil || string(m[1]) != strings.Join(code, "") {
		t.Errorf("the README's policy is not examples/policy/plan.rego's:\n%s", m)
	}
}
