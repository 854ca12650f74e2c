package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCIExamples checks the promises the example workflows make: the plan job holds no
// Infobip secret and no writer's credentials, smsform is installed at a pinned version, the
// self-hosted variant picks its runner by label, and applies never overlap.
func TestCIExamples(t *testing.T) {
	type job struct {
		RunsOn      any               `yaml:"runs-on"`
		Env         map[string]string `yaml:"env"`
		Concurrency struct {
			Group            string `yaml:"group"`
			CancelInProgress bool   `yaml:"cancel-in-progress"`
		} `yaml:"concurrency"`
		Steps []struct {
			Run string `yaml:"run"`
		} `yaml:"steps"`
	}
	type workflow struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]job    `yaml:"jobs"`
	}
	for _, name := range []string{"examples/ci/github-actions.yml", "examples/ci/github-actions-postgres.yml"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var w workflow
			if err := yaml.Unmarshal(data, &w); err != nil {
				t.Fatal(err)
			}
			plan, apply := w.Jobs["plan"], w.Jobs["apply"]
			for k, v := range w.Env {
				if strings.Contains(k, "INFOBIP") || strings.Contains(v, "secrets.") {
					t.Errorf("workflow-level env %s=%s reaches the plan job", k, v)
				}
			}
			for k, v := range plan.Env {
				if strings.Contains(k, "INFOBIP") || strings.Contains(v, "WRITER") {
					t.Errorf("the plan job gets %s=%s; plan needs no Infobip secret and only read access", k, v)
				}
			}
			if apply.Env["INFOBIP_API_KEY"] == "" {
				t.Error("the apply job gets no INFOBIP_API_KEY")
			}
			if apply.Concurrency.Group == "" || apply.Concurrency.CancelInProgress {
				t.Errorf("apply's concurrency %+v: want a group that never cancels a running apply", apply.Concurrency)
			}
			installs := 0
			for _, j := range []job{plan, apply} {
				for _, s := range j.Steps {
					if strings.Contains(s.Run, "go install") {
						installs++
						if strings.Contains(s.Run, "@latest") || !strings.Contains(s.Run, "@${SMSFORM_VERSION}") {
							t.Errorf("install %q is not pinned", s.Run)
						}
					}
				}
			}
			if installs != 2 || !strings.HasPrefix(w.Env["SMSFORM_VERSION"], "v") {
				t.Errorf("%d installs, SMSFORM_VERSION %q: want both jobs to install a pinned release", installs, w.Env["SMSFORM_VERSION"])
			}
			if strings.Contains(name, "postgres") {
				if plan.Env["SMSFORM_STATE"] != "${{ secrets.SMSFORM_STATE_READONLY }}" || !strings.Contains(apply.Env["SMSFORM_STATE"], "WRITER") {
					t.Errorf("plan state %q, apply state %q: want the read-only URL for plan, the writer's for apply", plan.Env["SMSFORM_STATE"], apply.Env["SMSFORM_STATE"])
				}
				return
			}
			for _, j := range []job{plan, apply} {
				labels, _ := j.RunsOn.([]any)
				if len(labels) < 2 {
					t.Errorf("runs-on %v: a self-hosted runner must be picked by a label, not any self-hosted runner", j.RunsOn)
				}
			}
			if !strings.Contains(string(data), "WARNING: what a pull request's own workflow can do") {
				t.Error("no warning about pull requests on a self-hosted runner")
			}
		})
	}
}
