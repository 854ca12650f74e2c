package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// ApplyOptions tune apply.
type ApplyOptions struct {
	Parallelism int // requests in flight; default 4
	BatchSize   int // messages per request; default 500
	// Stop, when closed, makes apply start no new request; requests in flight finish and
	// are recorded (the first Ctrl-C).
	Stop <-chan struct{}
	// Progress, if set, is called after each batch with the messages done and the total.
	Progress func(done, total int)
	// Now is the clock deciding which quiet-hours send times are still ahead (and so go
	// with sendAt); default time.Now.
	Now func() time.Time
}

// Result counts what apply did.
type Result struct {
	Sent     int `json:"sent"`
	Failed   int `json:"failed"`
	Unknown  int `json:"unknown"`
	NotSent  int `json:"not_sent"` // planned but not attempted (stopped, or refused before sending)
	SmsParts int `json:"sms_parts"`
	// Problems lists the first failed or unknown messages with their reasons.
	Problems []MessageProblem `json:"problems,omitempty"`
	Stopped  bool             `json:"stopped,omitempty"`
	// Unresolved counts the messages in the whole state left with an unknown outcome.
	Unresolved int `json:"unresolved"`
	// Capped counts the messages a frequency cap held back, recorded capped by this apply.
	Capped int `json:"capped,omitempty"`
}

// MessageProblem is one message that did not end as sent.
type MessageProblem struct {
	Campaign string      `json:"campaign"`
	To       string      `json:"to"`
	State    state.State `json:"state"`
	Reason   string      `json:"reason"`
}

const maxProblems = 20

// batch is one request's worth of messages of one campaign.
type batch struct {
	cp   *CampaignPlan
	msgs []Message
	recs []campaign.Recipient // of msgs, as cp.Recipient gives them
	// at is the messages' send time under quiet hours; zero without them.
	at time.Time
}

// Apply sends every message the plan marks Send, in batches, recording each batch as
// sending before its request and with Infobip's answer after. It returns what it did even
// when it stops on an error.
func Apply(ctx context.Context, p *Plan, sender Sender, store state.Store, opts ApplyOptions) (Result, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &applier{sender: sender, store: store, opts: opts, total: p.Summary.Send}
	// An experiment's decision is recorded before its held recipients are sent the winner.
	if err := recordDecisions(context.WithoutCancel(ctx), p, store, opts.Now()); err != nil {
		return Result{NotSent: a.total}, err
	}
	// A fatal error stops the feeding of new batches, never the requests in flight: their
	// answers must be recorded, or they would become unknown outcomes.
	feedCtx, stopFeeding := context.WithCancel(ctx)
	defer stopFeeding()

	batches := make(chan batch)
	go func() {
		defer close(batches)
		for _, cp := range p.Campaigns {
			for w := range sendWindows(cp) {
				for lo := 0; lo < len(w.msgs); lo += opts.BatchSize {
					hi := min(lo+opts.BatchSize, len(w.msgs))
					if !a.feed(feedCtx, batches, batch{cp, w.msgs[lo:hi:hi], w.recs[lo:hi:hi], w.at}) {
						return
					}
				}
			}
		}
	}()

	a.settle = make(chan state.Settlement, opts.Parallelism)
	// A state that takes several writers at once records answers in several transactions
	// at once: on PostgreSQL one settler's upserts, on one connection, bounded apply.
	settlers := 1
	if w, ok := store.(state.ConcurrentWriter); ok {
		settlers = max(1, w.Writers())
	}
	var settling sync.WaitGroup
	for range settlers {
		settling.Go(func() { a.settler(ctx, stopFeeding) })
	}

	var wg sync.WaitGroup
	for range opts.Parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if feedCtx.Err() != nil {
					continue // handed out just before the stop
				}
				if err := a.send(ctx, b); err != nil {
					a.fail(err)
					stopFeeding()
				}
			}
		}()
	}
	wg.Wait()
	close(a.settle)
	settling.Wait()
	a.res.NotSent = a.total - a.done
	return a.res, a.err
}

type applier struct {
	sender Sender
	store  state.Store
	opts   ApplyOptions
	total  int
	settle chan state.Settlement

	mu   sync.Mutex
	done int
	res  Result
	err  error
}

// feed hands a batch to the workers unless apply was told to stop.
func (a *applier) feed(ctx context.Context, ch chan<- batch, b batch) bool {
	if !stopped(a.opts.Stop) { // checked first: a stop wins over a worker ready to take b
		select {
		case ch <- b:
			return true
		case <-ctx.Done():
			return false
		case <-a.opts.Stop:
		}
	}
	a.mu.Lock()
	a.res.Stopped = true
	a.mu.Unlock()
	return false
}

// settleGroup caps the batches one settling transaction takes: more share page writes, but
// hold the state's single writer longer while workers wait to record their next batch.
const settleGroup = 8

// settler records answers: whatever has queued up while the last transaction ran goes into
// the next one. A failure leaves those batches in flight, to be reconciled by the next run.
func (a *applier) settler(ctx context.Context, stopFeeding func()) {
	write := context.WithoutCancel(ctx)
	for first := range a.settle {
		items := []state.Settlement{first}
	more:
		for len(items) < settleGroup {
			select {
			case it, ok := <-a.settle:
				if !ok {
					break more
				}
				items = append(items, it)
			default:
				break more
			}
		}
		if err := a.store.SettleMany(write, items); err != nil {
			a.fail(fmt.Errorf("record answers (those batches stay in flight and are reconciled on the next run): %w", err))
			stopFeeding()
		}
	}
}

func (a *applier) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

// send carries one batch through: render, record sending, request, record outcomes.
func (a *applier) send(ctx context.Context, b batch) error {
	c := b.cp.Campaign
	req, out, err := buildRequest(b, a.opts.Now())
	if err != nil {
		return err
	}
	// The state writes must happen even when ctx is cancelled: a record of what was
	// (maybe) sent is never skipped.
	write := context.WithoutCancel(ctx)
	sent, err := a.markSending(write, out)
	if err != nil {
		return fmt.Errorf("record batch of %s before sending: %w", c.ID, err)
	}
	out = sent.Messages // in the state's order, which the outcomes follow
	resp, sendErr := a.sender.Send(ctx, req)
	outcomes, stop, nothingDone := classify(out, resp, sendErr)
	if nothingDone {
		// Nothing was done with this request (refused credentials, or it never left): the
		// messages stay as they were, plainly unsent.
		if err := a.store.Forget(write, sent); err != nil {
			return errors.Join(stop, fmt.Errorf("clear the in-flight record: %w", err))
		}
		return stop
	}
	// The answers are recorded by the settler, several batches a transaction; the worker
	// goes on with its next request.
	a.settle <- state.Settlement{Batch: sent, Outcomes: outcomes}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, o := range outcomes {
		switch o.State {
		case state.Sent:
			a.res.Sent++
			a.res.SmsParts += max(o.SmsCount, out[i].Parts)
		case state.Failed:
			a.res.Failed++
		case state.Unknown:
			a.res.Unknown++
		}
		if o.State != state.Sent && len(a.res.Problems) < maxProblems {
			a.res.Problems = append(a.res.Problems, MessageProblem{Campaign: c.ID, To: out[i].To, State: o.State, Reason: o.Error})
		}
	}
	a.done += len(out)
	if a.opts.Progress != nil {
		a.opts.Progress(a.done, a.total)
	}
	return stop
}

// markSending records a batch as in flight. A state that can (state.SettlingWriter) records,
// in the same durable transaction, the answers waiting for the settler: one commit instead
// of two, and the order of durable facts unchanged (answers of requests already sent, then
// the new batch, before its request leaves). Answers it could not record go back to the
// settler, which records them on their own.
func (a *applier) markSending(ctx context.Context, out []state.Outgoing) (*state.Batch, error) {
	w, ok := a.store.(state.SettlingWriter)
	if !ok {
		return a.store.MarkSending(ctx, out)
	}
	var items []state.Settlement
take:
	for len(items) < settleGroup {
		select {
		case it := <-a.settle:
			items = append(items, it)
		default:
			break take
		}
	}
	if len(items) == 0 {
		return a.store.MarkSending(ctx, out)
	}
	sent, err := w.MarkSendingAfter(ctx, items, out)
	if err != nil {
		for _, it := range items {
			a.settle <- it
		}
	}
	return sent, err
}

// buildRequest renders the batch's texts into one request and the matching state rows.
func buildRequest(b batch, now time.Time) (*Request, []state.Outgoing, error) {
	c := b.cp.Campaign
	r := c.NewRenderer()
	req := requestFor(c)
	if c.Quiet != nil {
		// The group's time replaces send_at (it is send_at, or later); a time that has come
		// goes without sendAt, at once.
		req.SendAt = time.Time{}
		if b.at.After(now) {
			req.SendAt = b.at
		}
	}
	req.Messages = make([]OutMessage, len(b.msgs))
	out := make([]state.Outgoing, len(b.msgs))
	ids := make([]string, len(b.msgs))
	for i, m := range b.msgs {
		rec := b.recs[i]
		text, err := r.Render(rec)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Pos(rec), err)
		}
		out[i] = outgoing(b.cp, m, rec)
		id := out[i].MessageID
		ids[i] = id
		req.Messages[i] = OutMessage{ID: id, To: rec.To, Text: text, Variant: out[i].Variant}
		if !req.SendAt.IsZero() {
			// When it goes out is when frequency caps count it.
			out[i].SendAt = state.FormatTime(req.SendAt)
		}
	}
	req.BulkID = BulkID(c.ID, c.Round, ids)
	for i := range out {
		out[i].BulkID = req.BulkID
	}
	return req, out, nil
}

// outgoing is the state's row of a planned message, whose recipient (cp.Recipient) is rec:
// its key and messageId, what the plan compares (hash), and what the record keeps as
// evidence (purpose, consent).
func outgoing(cp *CampaignPlan, m Message, rec campaign.Recipient) state.Outgoing {
	c := cp.Campaign
	o := state.Outgoing{
		Key:     state.Key{Campaign: c.ID, Round: c.Round, To: rec.To},
		Attempt: int(m.Attempt), MessageID: cp.messageID(m, rec), Hash: rec.Hash, Parts: int(rec.Parts),
		Tracked: c.Tracking != nil, Purpose: purposeOf(c), Variant: cp.VariantName(m),
	}
	o.Held = o.Variant != "" && cp.heldOut(m)
	if c.Tracking != nil {
		o.TrackingType = c.Tracking.Type
	}
	if c.IsMarketing() {
		if at, source, ok := c.Consent(rec); ok {
			o.ConsentAt, o.ConsentSource = state.FormatTime(at), source
		}
	}
	return o
}

// requestFor holds a campaign's options, which every request of it carries.
func requestFor(c *campaign.Campaign) *Request {
	req := &Request{Campaign: c.ID, From: c.From, Validity: c.Validity(), SendAt: c.SendTime(),
		NotifyURL: c.NotifyURL, CallbackData: c.CallbackData}
	if w := c.DeliveryWindow; w != nil {
		from, to := w.Minutes()
		req.Window = &TimeWindow{Days: w.Days, From: from, To: to}
	}
	if s := c.SpeedLimit; s != nil {
		req.Speed = &SpeedLimit{Amount: s.Amount, Unit: s.TimeUnit}
	}
	if c.Tracking != nil {
		req.TrackingType = c.Tracking.Type
	}
	return req
}

// classify turns the answer (or the failure) of one request into one outcome per message.
// nothingDone is set when the request provably did nothing: there is nothing to record and
// the run ends with stop. Otherwise the outcomes are recorded, and a stop error, if any,
// ends the run after that.
func classify(out []state.Outgoing, answers []Answer, err error) (outcomes []state.Outcome, stop error, nothingDone bool) {
	outcomes = make([]state.Outcome, len(out))
	for i, o := range out {
		outcomes[i] = state.Outcome{Key: o.Key, MessageID: o.MessageID}
	}
	if err != nil {
		failure, hint := failureOf(err)
		switch failure {
		case CredentialsRefused:
			return nil, err, true
		case NothingSent:
			if hint != "" {
				hint = "; " + hint
			}
			return nil, fmt.Errorf("%w (nothing of this batch was sent%s, then run apply again)", err, hint), true
		case RequestRefused:
			// The API refused the request as a whole (a bad sender, say): sent again
			// unchanged it would fail the same way, and so would the next batches.
			why := reasonText(err.Error()) // one bounded copy for every message
			for i := range outcomes {
				outcomes[i].State = state.Failed
				outcomes[i].Error = why
			}
			return outcomes, fmt.Errorf("%w (this batch is recorded as failed; the run stops so that the others are not refused too)", err), false
		default:
			// A 5xx, no answer after the request was written, an answer that cannot be
			// read: the API may have acted on it.
			why := reasonText(err.Error())
			for i := range outcomes {
				outcomes[i].State = state.Unknown
				outcomes[i].Error = why
			}
			return outcomes, nil, false
		}
	}
	byID := make(map[string]Answer, len(answers))
	for _, a := range answers {
		byID[a.MessageID] = a
	}
	for i, o := range out {
		a, ok := byID[o.MessageID]
		oc := &outcomes[i]
		if !ok {
			oc.State = state.Unknown
			oc.Error = "the answer did not mention this message"
			continue
		}
		oc.StatusGroup, oc.StatusID, oc.StatusName, oc.SmsCount = a.Status.Group, a.Status.ID, safetext.Clip(a.Status.Name, maxStatusName), a.SmsCount
		switch {
		case a.Status.DuplicateMessageID():
			// The API already has this messageId: an earlier send went through.
			oc.State = state.Sent
			oc.Error = "messageId already used: an earlier send of this message went through"
		case a.Status.Rejected():
			oc.State = state.Failed
			oc.Error = rejection(a.Status)
		default:
			oc.State = state.Sent
		}
	}
	return outcomes, nil, false
}

// rejection is the reason stored for a message the API rejected: its status name and
// description, bounded.
func rejection(s Status) string {
	why := safetext.Clip(s.Name, maxStatusName)
	if s.Description != "" {
		why += ": " + s.Description
	}
	return reasonText(why)
}
