package runner_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// answering is a Sender that answers every request with err, or with status for each
// message.
type answering struct {
	err    error
	status runner.Status
}

func (a answering) Send(_ context.Context, req *runner.Request) ([]runner.Answer, error) {
	if a.err != nil {
		return nil, a.err
	}
	out := make([]runner.Answer, len(req.Messages))
	for i, m := range req.Messages {
		out[i] = runner.Answer{MessageID: m.ID, Status: a.status}
	}
	return out, nil
}

// TestApplyStoresBoundedReasons: whatever texts the API answers with, each message's
// stored reason and status are escaped and bounded (a 4 MB error text stored with every
// message of its request made a state of hundreds of MB).
func TestApplyStoresBoundedReasons(t *testing.T) {
	huge := "Bad request\n::error::x ##[error]y " + strings.Repeat("z", 4<<20)
	for name, snd := range map[string]answering{
		"a refused request":   {err: &runner.SendError{Failure: runner.RequestRefused, Err: errors.New(huge)}},
		"an unknown outcome":  {err: &runner.SendError{Failure: runner.OutcomeUnknown, Err: errors.New(huge)}},
		"rejected one by one": {status: runner.Status{Group: runner.GroupRejected, ID: 52, Name: "REJECTED\n" + huge, Description: huge}},
	} {
		t.Run(name, func(t *testing.T) {
			set := load(t, map[string]string{"otp.yaml": otpYAML})
			s := openStore(t)
			runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), snd, s, runner.ApplyOptions{BatchSize: 3, Parallelism: 1})
			rows := stateOf(t, s, state.Filter{})
			if len(rows) != 3 {
				t.Fatalf("%d messages recorded, want 3", len(rows))
			}
			for to, row := range rows {
				if len(row.Error) > 500 || len(row.StatusName) > 100 {
					t.Errorf("%s: reason of %d bytes, status name of %d bytes", to, len(row.Error), len(row.StatusName))
				}
				if strings.ContainsAny(row.Error+row.StatusName, "\n") || strings.Contains(row.Error+row.StatusName, "##[") {
					t.Errorf("%s: reason %q, status %q are not escaped", to, row.Error, row.StatusName)
				}
				if !strings.Contains(row.Error, "bytes in all)") {
					t.Errorf("%s: reason %q does not say it was cut", to, row.Error)
				}
			}
		})
	}
}

// recordingStore keeps the conversions recorded through it.
type recordingStore struct {
	*sqlite.Store
	conversions []state.Conversion
}

func (r *recordingStore) RecordConversions(ctx context.Context, cs []state.Conversion) error {
	r.conversions = append(r.conversions, cs...)
	return r.Store.RecordConversions(ctx, cs)
}

type converterFunc func(id string) (string, error)

func (f converterFunc) SubmitConversion(_ context.Context, id string) (string, error) { return f(id) }

// TestConvertStoresBoundedAnswers: a process key or an error text of any length is stored
// escaped and bounded with each conversion.
func TestConvertStoresBoundedAnswers(t *testing.T) {
	huge := "A37D448C1ACCA02FABA745522558326C\n##[error]" + strings.Repeat("x", 1<<20)
	for name, conv := range map[string]converterFunc{
		"a huge process key": func(string) (string, error) { return huge, nil },
		"a huge error text": func(string) (string, error) {
			return "", &runner.SendError{Failure: runner.RequestRefused, Err: errors.New(huge)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := &recordingStore{Store: openStore(t)}
			_, client := startSandbox(t, sandbox.Options{}, nil)
			applyFiles(t, s.Store, client, map[string]string{"otp.yaml": otpYAML})
			path := eventsFile(t, "events.csv", "messageId\n"+otpID("+41790000001")+"\n"+otpID("+41790000002")+"\n")
			if _, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{}); err != nil {
				t.Fatal(err)
			}
			if len(s.conversions) != 2 {
				t.Fatalf("%d conversions recorded, want 2", len(s.conversions))
			}
			for _, c := range s.conversions {
				if len(c.ProcessKey) > 64 || len(c.Error) > 500 || strings.Contains(c.ProcessKey+c.Error, "\n") {
					t.Errorf("%s: process key of %d bytes, error of %d bytes: %.80q", c.MessageID, len(c.ProcessKey), len(c.Error), c.ProcessKey+c.Error)
				}
			}
		})
	}
}
