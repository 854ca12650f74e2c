package runner

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/state"
)

// API is what an apply needs from Infobip: sending, and the logs to reconcile with.
// internal/infobip/sms.API is one.
type API interface {
	Sender
	LogReader
}

// ApplyRun is one apply, from the state as a run that died may have left it to the answers
// recorded. The cli fills it from flags and prints what the hooks are handed; everything
// that decides lives here, so it is tested without the cli.
type ApplyRun struct {
	// Store is the state, taken with Lock: what a run that died left in flight is unknown
	// by then.
	Store state.Store
	Set   *campaign.Set
	// Saved is the plan file being applied, nil when planning afresh; its RetryFailed
	// replaces Plan's.
	Saved *SavedPlan
	Plan  PlanOptions
	// Connect returns the API, called only when there is something to look up or send:
	// runs that need no network need no credentials.
	Connect   func() (API, error)
	Reconcile ReconcileOptions
	Apply     ApplyOptions
	Now       func() time.Time
	// AllowOverLimit approves an apply over a settings file's limits sending at most this
	// many messages (-allow-over-limit N); 0 approves none.
	AllowOverLimit int
	// Early, if set, is a read of Store begun while the campaigns loaded (PrefetchState),
	// under the lock. A plan uses it while the state is still as it was read: a rerun with
	// most messages recorded then reads them once, beside the recipients, not after.
	Early *StateRead

	// Reconciled, if set, is told what reconciling found.
	Reconciled func(Reconciliation)
	// Planned, if set, is handed the plan to send and how many unknown messages were
	// abandoned; it shows them.
	Planned func(p *Plan, abandoned int) error
	// Confirm, if set, is asked before anything is sent; an error cancels the run.
	Confirm func(p *Plan) error
	// BeforeSend, if set, is called once sending is certain, to set up what only sending
	// needs (the stop channel of signals, progress) in the options it is handed.
	BeforeSend func(*ApplyOptions)
}

// ApplyOutcome is what an apply did.
type ApplyOutcome struct {
	Plan           *Plan
	Reconciliation Reconciliation
	Abandoned      int
	Result         Result
	// Applied says sending started: Result holds what it did, also after an error.
	Applied bool
}

// RunApply carries out the apply sequence on a state taken with Lock (which recorded what
// a dead run left in flight as unknown): check a saved plan against the state; look
// unknown outcomes up in the logs and decide about the others (Decide); plan, with the
// resends cleared; abandon resends the files no longer hold; confirm; note the resends'
// first attempts; send; count the messages the state holds of unknown outcome
// (Result.Unresolved). The outcome is returned also when a step fails after sending
// started.
func RunApply(ctx context.Context, r ApplyRun) (ApplyOutcome, error) {
	out, err := runApply(ctx, r)
	if err != nil && !out.Applied {
		return out, err
	}
	// Counted also after a stop or a failure: a signal or an error must not hide them.
	n, cerr := r.Store.CountUnresolved(context.WithoutCancel(ctx))
	if cerr != nil {
		return out, errors.Join(err, cerr)
	}
	out.Result.Unresolved = n
	return out, err
}

func runApply(ctx context.Context, r ApplyRun) (ApplyOutcome, error) {
	var out ApplyOutcome
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Saved != nil {
		// What to plan was decided when the plan was made.
		r.Plan.RetryFailed = r.Saved.RetryFailed
	}
	if r.Saved != nil && !r.Saved.ScheduledFrom.IsZero() {
		// The send times the saved plan showed, computed again from its clock.
		r.Plan.ScheduleFrom = r.Saved.ScheduledFrom
	}
	if r.Saved != nil {
		// The saved plan is checked against the state as it was before this run changed it.
		p, err := r.plan(ctx)
		if err != nil {
			return out, err
		}
		if err := r.Saved.Check(p); err != nil {
			return out, err
		}
	}
	var api API
	connect := func() (API, error) {
		if api != nil {
			return api, nil
		}
		var err error
		api, err = r.Connect()
		return api, err
	}
	n, err := r.Store.CountUnresolved(ctx)
	if err != nil {
		return out, err
	}
	if n > 0 {
		a, err := connect()
		if err != nil {
			return out, fmt.Errorf("%d messages have an unknown outcome and must be looked up in Infobip's logs first: %w", n, err)
		}
		opts := r.Reconcile
		opts.Now = r.Now()
		if out.Reconciliation, err = Reconcile(ctx, r.Store, a, opts); err != nil {
			return out, err
		}
		if r.Reconciled != nil && out.Reconciliation.Checked > 0 {
			r.Reconciled(out.Reconciliation)
		}
	}
	r.Plan.Resend = out.Reconciliation.ResendKeys
	p, err := r.plan(ctx)
	if err != nil {
		return out, err
	}
	out.Plan = p
	if r.Saved != nil {
		if err := r.Saved.CheckSends(p); err != nil {
			return out, err
		}
	}
	if out.Abandoned, err = out.Reconciliation.Abandon(ctx, r.Store, p); err != nil {
		return out, err
	}
	if r.Planned != nil {
		if err := r.Planned(p, out.Abandoned); err != nil {
			return out, err
		}
	}
	// Checked on the plan being applied, fresh or saved: nothing is sent or recorded over a
	// limit that was not approved.
	if err := p.CheckLimits(r.AllowOverLimit); err != nil {
		return out, err
	}
	if p.Summary.Send == 0 {
		// Capped messages are recorded even when nothing else is to do: a cap that has
		// lifted by the next apply must not send a promotion late.
		out.Result.Capped, err = r.recordCapped(ctx, p)
		return out, err
	}
	a, err := connect()
	if err != nil {
		return out, err
	}
	if r.Confirm != nil {
		if err := r.Confirm(p); err != nil {
			return out, err
		}
	}
	if err := out.Reconciliation.NoteResends(ctx, r.Store, p); err != nil {
		return out, fmt.Errorf("record the first attempts of the messages to send again: %w", err)
	}
	// Checked last before sending: an approval may have waited past the start of quiet
	// hours, and a saved plan may be applied long after it was made.
	if err := p.CheckQuiet(r.Now()); err != nil {
		return out, err
	}
	capped, err := r.recordCapped(ctx, p)
	if err != nil {
		return out, err
	}
	if r.BeforeSend != nil {
		r.BeforeSend(&r.Apply)
	}
	if r.Apply.Now == nil {
		r.Apply.Now = r.Now
	}
	out.Applied = true
	out.Result, err = Apply(ctx, p, a, r.Store, r.Apply)
	out.Result.Capped = capped
	return out, err
}

// plan plans the run's campaigns; each plan (a saved plan's check, then the plan sent) uses
// the early read while the state is as it was read (ReadState).
func (r *ApplyRun) plan(ctx context.Context) (*Plan, error) {
	return PlanFrom(ctx, r.Store, r.Set, r.Now(), r.Plan, r.Early)
}

// recordCapped records the messages the plan caps, under the lock the run holds, before
// anything is sent, and returns how many.
func (r *ApplyRun) recordCapped(ctx context.Context, p *Plan) (int, error) {
	msgs, reasons := p.CappedOutgoing()
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := r.Store.RecordCapped(context.WithoutCancel(ctx), msgs, reasons); err != nil {
		return 0, fmt.Errorf("record %d capped %s: %w", len(msgs), words.Plural(len(msgs), "message", "messages"), err)
	}
	return len(msgs), nil
}
