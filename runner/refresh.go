package runner

import (
	"context"
	"time"

	"github.com/smsform/smsform/state"
)

// RefreshAPI is what a refresh needs from Infobip: the logs (outcomes and delivery status)
// and the inbound replies. internal/infobip/sms.API is one.
type RefreshAPI interface {
	LogReader
	InboundReader
}

// RefreshRun is one refresh. The cli fills it from flags and prints what the hooks are
// handed and what RunRefresh returns; everything that decides lives here.
type RefreshRun struct {
	// Store is the state, taken with Lock.
	Store     state.Store
	API       RefreshAPI
	Reconcile ReconcileOptions
	Delivery  DeliveryOptions
	StopWords StopWords
	Now       func() time.Time

	// Reconciled, if set, is told what looking unknown outcomes up found, before the
	// delivery status is read.
	Reconciled func(Reconciliation)
	// DeliveryProgress, if set, is called as the delivery status starts to be read, for
	// that step's Progress (whose clock starts then).
	DeliveryProgress func() func(done, total int)
	// DeliveryRead, if set, is told what reading the delivery status found, before the
	// replies are pulled.
	DeliveryRead func(DeliveryResult)
}

// RefreshOutcome is what a refresh did: each step's result, those of the steps it reached
// when it stopped on an error.
type RefreshOutcome struct {
	Reconciliation Reconciliation
	Delivery       DeliveryResult
	Inbound        OptOutResult
}

// Unresolved counts the messages the refresh left with an unknown outcome: cleared for a
// resend by the next apply, waiting for the logs, or waiting for a person. A refresh that
// leaves any is incomplete (the cli exits 3).
func (o RefreshOutcome) Unresolved() int {
	rec := o.Reconciliation
	return rec.Resend + rec.Waiting + rec.NeedsPerson
}

// RunRefresh carries out the refresh sequence: look unknown outcomes up in the logs and
// decide about the others (Reconcile), read the delivery status of sent messages still
// pending (RefreshDelivery), then pull the inbound replies and record the opt-outs among
// them (RefreshOptOuts).
func RunRefresh(ctx context.Context, r RefreshRun) (RefreshOutcome, error) {
	var out RefreshOutcome
	if r.Now == nil {
		r.Now = time.Now
	}
	var err error
	ropts := r.Reconcile
	ropts.Now = r.Now()
	if out.Reconciliation, err = Reconcile(ctx, r.Store, r.API, ropts); err != nil {
		return out, err
	}
	if r.Reconciled != nil {
		r.Reconciled(out.Reconciliation)
	}
	dopts := r.Delivery
	dopts.Now = r.Now()
	if r.DeliveryProgress != nil {
		dopts.Progress = r.DeliveryProgress()
	}
	if out.Delivery, err = RefreshDelivery(ctx, r.Store, r.API, dopts); err != nil {
		return out, err
	}
	if r.DeliveryRead != nil {
		r.DeliveryRead(out.Delivery)
	}
	out.Inbound, err = RefreshOptOuts(ctx, r.Store, r.API, RefreshOptOutsOptions{StopWords: r.StopWords, Now: r.Now()})
	return out, err
}
