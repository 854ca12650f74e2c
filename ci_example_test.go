package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type ciStep struct {
	Name string            `yaml:"name"`
	ID   string            `yaml:"id"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	Env  map[string]string `yaml:"env"`
}

type ciJob struct {
	If          string            `yaml:"if"`
	Needs       any               `yaml:"needs"`
	RunsOn      any               `yaml:"runs-on"`
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Outputs     map[string]string `yaml:"outputs"`
	Concurrency struct {
		Group            string `yaml:"group"`
		CancelInProgress bool   `yaml:"cancel-in-progress"`
	} `yaml:"concurrency"`
	Steps []ciStep `yaml:"steps"`
}

type ciWorkflow struct {
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]ciJob  `yaml:"jobs"`
}

var ciWorkflows = []string{"examples/ci/github-actions.yml", "examples/ci/github-actions-postgres.yml"}

func readWorkflow(t *testing.T, name string) (ciWorkflow, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var w ciWorkflow
	if err := yaml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	return w, data
}

// TestCIExamples checks the promises the example workflows make: the plan job holds no
// Infobip secret, no writer's credentials and no token that may write, and masks numbers;
// its Markdown plan goes to the job summary and, through a job that may only write
// pull-request comments and does nothing else, into the pull request; smsform is installed
// at a pinned version; the self-hosted variant picks its runner by label; applies never
// overlap.
func TestCIExamples(t *testing.T) {
	for _, name := range ciWorkflows {
		t.Run(name, func(t *testing.T) {
			w, data := readWorkflow(t, name)
			plan, comment, apply := w.Jobs["plan"], w.Jobs["comment"], w.Jobs["apply"]
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
			// A send over a limit of smsform.yaml is approved in the workflow's own diff.
			approved := false
			for _, s := range apply.Steps {
				if strings.Contains(s.Run, "smsform apply ") {
					approved = strings.Contains(s.Run, `-allow-over-limit "$ALLOW_OVER_LIMIT"`) && s.Env["ALLOW_OVER_LIMIT"] == "0"
				}
			}
			if !approved {
				t.Error(`the apply step does not pass -allow-over-limit "$ALLOW_OVER_LIMIT" from the step's env, "0" (none approved) by default`)
			}
			if apply.Concurrency.Group == "" || apply.Concurrency.CancelInProgress {
				t.Errorf("apply's concurrency %+v: want a group that never cancels a running apply", apply.Concurrency)
			}
			installs := 0
			for _, j := range []ciJob{plan, apply} {
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

			// Numbers are masked in every job's human output: logs, summaries, comments.
			if w.Env["SMSFORM_MASK_NUMBERS"] != "1" {
				t.Errorf("SMSFORM_MASK_NUMBERS is %q for the workflow; want 1", w.Env["SMSFORM_MASK_NUMBERS"])
			}
			// Least privilege: read for the workflow; only the comment job may write, and
			// only pull-request comments.
			if len(w.Permissions) != 1 || w.Permissions["contents"] != "read" {
				t.Errorf("workflow permissions %v: want contents: read only", w.Permissions)
			}
			for jobName, j := range w.Jobs {
				if jobName == "comment" {
					continue
				}
				for scope, access := range j.Permissions {
					if access != "read" && access != "none" {
						t.Errorf("job %s may %s %s: only the comment job writes, and only pull-request comments", jobName, access, scope)
					}
				}
			}
			if len(comment.Permissions) != 1 || comment.Permissions["pull-requests"] != "write" {
				t.Errorf("comment job permissions %v: want pull-requests: write alone", comment.Permissions)
			}

			// The plan job writes the Markdown plan to the summary and hands it on.
			var planRun string
			for _, s := range plan.Steps {
				if s.ID == "plan" {
					planRun = s.Run
				}
			}
			if !strings.Contains(planRun, "smsform plan -detailed-exitcode -markdown ") || !strings.Contains(planRun, `>>"$GITHUB_STEP_SUMMARY"`) ||
				!strings.Contains(planRun, `comment=$(base64 -w0 plan.md)`) || plan.Outputs["comment"] != "${{ steps.plan.outputs.comment }}" {
				t.Errorf("the plan job does not write plan -markdown to the job summary and its output:\n%s", planRun)
			}

			// The comment job: after plan, on a hosted runner, no checkout, no smsform, no
			// action, no secret but its own token; one comment per pull request at a time.
			if comment.Needs != "plan" || comment.RunsOn != "ubuntu-latest" || !strings.Contains(comment.If, "!cancelled()") ||
				!strings.Contains(comment.If, "github.event.pull_request.head.repo.full_name == github.repository") {
				t.Errorf("comment job needs %v, runs on %v, if %q", comment.Needs, comment.RunsOn, comment.If)
			}
			if comment.Concurrency.Group == "" || comment.Concurrency.CancelInProgress {
				t.Errorf("comment job concurrency %+v: want one update at a time per pull request", comment.Concurrency)
			}
			for _, s := range comment.Steps {
				if s.Uses != "" && !regexp.MustCompile(`@[0-9a-f]{40}$`).MatchString(s.Uses) {
					t.Errorf("comment job uses %s, not pinned to a commit", s.Uses)
				}
				if strings.Contains(s.Run, "smsform") && !strings.Contains(s.Run, "smsform-plan") {
					t.Errorf("comment job runs smsform:\n%s", s.Run)
				}
				for k, v := range s.Env {
					if strings.Contains(v, "secrets.") || (strings.Contains(v, "token") && v != "${{ github.token }}") {
						t.Errorf("comment job step gets %s=%s", k, v)
					}
				}
			}

			if strings.Contains(name, "postgres") {
				if plan.Env["SMSFORM_STATE"] != "${{ secrets.SMSFORM_STATE_READONLY }}" || !strings.Contains(apply.Env["SMSFORM_STATE"], "WRITER") {
					t.Errorf("plan state %q, apply state %q: want the read-only URL for plan, the writer's for apply", plan.Env["SMSFORM_STATE"], apply.Env["SMSFORM_STATE"])
				}
				return
			}
			for _, j := range []ciJob{plan, apply} {
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

// TestCICommentUpdated runs the comment job's script with a stand-in for the gh command
// (jq does what gh's --jq would): the first plan is posted as a new comment; the next
// edits the comment the workflow wrote before, found by its hidden marker, and no other
// (not one by someone else that quotes the marker); the plan arrives byte for byte, and
// nothing in it runs.
func TestCICommentUpdated(t *testing.T) {
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatal("the comment job uses jq, as GitHub's runners have it; install it to run this test (apt-get install -y jq)")
	}
	dir := t.TempDir()
	gh := `#!/bin/sh
# A stand-in for gh: records each call; lists $GH_COMMENTS through the --jq filter; keeps
# the body of a POST or PATCH.
printf '%s\n' "$*" >>"$GH_DIR/calls"
method=GET; input=; filter=; url=
while [ $# -gt 0 ]; do
  case "$1" in
    api|--paginate) ;;
    --method) method=$2; shift ;;
    --input) input=$2; shift ;;
    --jq) filter=$2; shift ;;
    *) url=$1 ;;
  esac
  shift
done
if [ "$method" = GET ]; then
  jq -r "$filter" "$GH_COMMENTS"
  exit
fi
printf '%s %s\n' "$method" "$url" >>"$GH_DIR/writes"
cp "$input" "$GH_DIR/sent.json"
`
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "gh"), []byte(gh), 0o755); err != nil {
		t.Fatal(err)
	}
	plan := "## smsform plan\n\n**Plan: 3 to send.** $(touch pwned) `touch pwned2` \"quoted\" 'single' \\n\n```text\nHi\n```\n"
	for _, name := range ciWorkflows {
		w, _ := readWorkflow(t, name)
		script := w.Jobs["comment"].Steps[0].Run
		for _, tt := range []struct {
			name, comments, write string
		}{
			{"first push", `[]`, "POST repos/o/r/issues/7/comments"},
			{"next push", `[
				{"id": 1, "user": {"login": "mallory"}, "body": "<!-- smsform-plan -->\nfake"},
				{"id": 42, "user": {"login": "github-actions[bot]"}, "body": "<!-- smsform-plan -->\nold plan"},
				{"id": 43, "user": {"login": "github-actions[bot]"}, "body": "another workflow's comment"}]`,
				"PATCH repos/o/r/issues/comments/42"},
		} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				work := t.TempDir()
				comments := filepath.Join(work, "comments.json")
				if err := os.WriteFile(comments, []byte(tt.comments), 0o644); err != nil {
					t.Fatal(err)
				}
				// As GitHub runs a step: bash -e with pipefail, the step's env.
				cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
				cmd.Dir = work
				cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
					"GH_DIR="+work, "GH_COMMENTS="+comments, "GH_TOKEN=t", "PR=7", "REPO=o/r",
					"COMMENT="+base64.StdEncoding.EncodeToString([]byte(plan)))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("the comment script failed: %v\n%s", err, out)
				}
				writes, err := os.ReadFile(filepath.Join(work, "writes"))
				if err != nil || string(writes) != tt.write+"\n" {
					t.Errorf("wrote %q (%v), want %q", writes, err, tt.write)
				}
				var body struct{ Body string }
				data, err := os.ReadFile(filepath.Join(work, "sent.json"))
				if err != nil || json.Unmarshal(data, &body) != nil || body.Body != "<!-- smsform-plan -->\n"+plan {
					t.Errorf("the comment's body is %q (%v), want the marker and the plan", body.Body, err)
				}
				for _, f := range []string{"pwned", "pwned2"} {
					if _, err := os.Stat(filepath.Join(work, f)); err == nil {
						t.Errorf("the plan's text ran a command (%s)", f)
					}
				}
			})
		}
	}
}
