package runner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// Converter submits the conversion of one message sent with tracking, and answers with the
// key of the tracking process it counted in. An error says nothing was counted for sure; it
// should be a *SendError saying what may have become of the submission: CredentialsRefused
// stops convert, NothingSent leaves the conversion to a later run, RequestRefused (the API
// does not know the message as tracked) records it failed, and anything else, which may
// have counted, records it unknown.
type Converter interface {
	SubmitConversion(ctx context.Context, messageID string) (processKey string, err error)
}

// ConvertOptions tune Convert.
type ConvertOptions struct {
	Campaign    string // for rows that match by number without a campaign column
	Region      string // for numbers written without a country code
	DryRun      bool
	Parallelism int // requests in flight; default 16
	Stop        <-chan struct{}
	Progress    func(done, total int)
	// Recovered, if set, is told how many conversions a run that died left "submitting":
	// Convert records them as unknown, never submitted again, before anything else.
	Recovered func(n int)
}

// ConvertResult counts what convert found and did.
type ConvertResult struct {
	Rows             int `json:"rows"`
	Submitted        int `json:"submitted"`
	AlreadyConverted int `json:"already_converted"`
	// Conversions submitted before that failed, or whose answer was lost: not submitted
	// again on their own (see state.ConvUnknown).
	PreviouslyFailed  int `json:"previously_failed"`
	PreviouslyUnknown int `json:"previously_unknown"`
	Unmatched         int `json:"unmatched"`
	Untracked         int `json:"untracked"` // matched a message sent without tracking
	// NotSentMessages counts rows of messages that were never sent: rejected (failed), or
	// of unknown outcome. They cannot convert.
	NotSentMessages int `json:"not_sent_messages"`
	DuplicateRows   int `json:"duplicate_rows"` // more rows for a message already met in these files
	Failed          int `json:"failed"`
	Unknown         int `json:"unknown"`   // answer lost: not submitted again on its own
	NotSent         int `json:"not_sent"`  // matched but not submitted (dry run, stop, or error)
	ToSubmit        int `json:"to_submit"` // matched, tracked, not converted before
	// Examples holds the first few rows of each kind that was skipped, as FILE:LINE: reason.
	Examples []string `json:"examples,omitempty"`
	Stopped  bool     `json:"stopped,omitempty"`
}

const maxExamples = 5

// pendingConv is one conversion to submit: 12 bytes per matched row.
type pendingConv struct {
	msg  int32
	file int32
	line int32
}

// pending is the conversions to submit in chunks of convChunk, one state transaction each:
// millions of them grow a chunk at a time, never copied whole as a slice grown by doubling
// is, and each chunk is let go once it is recorded as submitting.
type pending struct {
	chunks [][]pendingConv
	n      int
}

func (p *pending) add(c pendingConv) {
	if len(p.chunks) == 0 || len(p.chunks[len(p.chunks)-1]) == convChunk {
		p.chunks = append(p.chunks, make([]pendingConv, 0, convChunk))
	}
	last := &p.chunks[len(p.chunks)-1]
	*last = append(*last, c)
	p.n++
}

// CheckEvents reads every events file through once and reports every file that is malformed
// or has no usable column, so that nothing is submitted while one is.
func CheckEvents(files []string, campaignFlag string) error {
	var ps []campaign.Problem
	for _, f := range files {
		err := eachEvent(f, campaignFlag, func(*eventFile, []string, int) error { return nil })
		var ve *campaign.ValidationError
		if errors.As(err, &ve) {
			ps = append(ps, ve.Problems...)
		} else if err != nil {
			return err
		}
	}
	if len(ps) > 0 {
		return &campaign.ValidationError{Problems: ps, Subject: "the event files (nothing was submitted)"}
	}
	return nil
}

// Convert first records the conversions a run that died left "submitting" as unknown (the
// API may have taken them: they are never submitted again), then matches every event row
// to a recorded message and submits one conversion per message that was sent with tracking
// and not converted before. Call CheckEvents first, and take the store with Lock.
func Convert(ctx context.Context, files []string, store state.Store, api Converter, opts ConvertOptions) (ConvertResult, error) {
	var res ConvertResult
	n, err := store.MarkConversionsInterrupted(ctx)
	if err != nil {
		return res, err
	}
	if n > 0 && opts.Recovered != nil {
		opts.Recovered(n)
	}
	idx, err := store.Index(ctx)
	if err != nil {
		return res, err
	}
	if opts.Campaign != "" && !idx.HasCampaign(opts.Campaign) {
		return res, fmt.Errorf("-campaign %s: no message of that campaign is recorded in %s; check the campaign id, or point --state (SMSFORM_STATE) at the state apply used", opts.Campaign, store.Name())
	}
	taken := make([]bool, idx.Len())
	var todo pending
	// skip lists the first few rows of each kind that is not submitted.
	seenKinds := map[string]int{}
	listed := func(kind string) bool { return seenKinds[kind] < maxExamples }
	skip := func(kind, file string, line int, format string, args ...any) {
		if listed(kind) {
			seenKinds[kind]++
			res.Examples = append(res.Examples, fmt.Sprintf("%s:%d: ", file, line)+fmt.Sprintf(format, args...))
		}
	}
	for fi, f := range files {
		err := eachEvent(f, opts.Campaign, func(ef *eventFile, row []string, line int) error {
			res.Rows++
			i, ok, why := match(idx, ef, row, opts.Region)
			if !ok {
				res.Unmatched++
				skip("unmatched", f, line, "%s", why)
				return nil
			}
			// A repeated row is one, whatever became of its message: a rerun counts it as
			// the first run did.
			if taken[i] {
				res.DuplicateRows++
				return nil
			}
			taken[i] = true
			// The message in full (its messageId, its number) only for the rows listed:
			// making strings of them for ten million rows was most of what matching
			// left to collect.
			st, tracked, conv := idx.Status(i)
			switch {
			case conv == state.Converted:
				res.AlreadyConverted++ // the usual case of a rerun: counted, not listed
			case conv == state.ConvFailed:
				res.PreviouslyFailed++
				if listed("previously") {
					skip("previously", f, line, "%s: its conversion failed before; not submitted again", idx.Get(i).MessageID)
				}
			case conv != "":
				res.PreviouslyUnknown++
				if listed("previously") {
					skip("previously", f, line, "%s: its conversion's answer was lost before (it may have counted); not submitted again", idx.Get(i).MessageID)
				}
			case st != state.Sent:
				res.NotSentMessages++
				if listed("notsent") {
					m := idx.Get(i)
					skip("notsent", f, line, "%s (campaign %s) is %s, not sent", m.MessageID, m.Campaign, m.State)
				}
			case !tracked:
				res.Untracked++
				if listed("untracked") {
					m := idx.Get(i)
					skip("untracked", f, line, "%s (campaign %s) was sent without tracking", m.MessageID, m.Campaign)
				}
			default:
				todo.add(pendingConv{msg: i, file: int32(fi), line: int32(line)})
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	res.ToSubmit = todo.n
	if opts.DryRun || todo.n == 0 {
		res.NotSent = todo.n
		return res, nil
	}
	err = submit(ctx, files, idx, &todo, store, api, opts, &res)
	res.NotSent = res.ToSubmit - res.Submitted - res.Failed - res.Unknown
	return res, err
}

// match finds the message a row names, or says why none matches.
func match(idx *state.MessageIndex, ef *eventFile, row []string, region string) (int32, bool, string) {
	if ef.idCol >= 0 && ef.idCol < len(row) && strings.TrimSpace(row[ef.idCol]) != "" {
		id := strings.TrimSpace(row[ef.idCol])
		i, ok := idx.ByMessageID(id)
		if !ok {
			return 0, false, fmt.Sprintf("no recorded message has messageId %s", safetext.Quote(id))
		}
		return i, true, ""
	}
	if ef.toCol < 0 || ef.toCol >= len(row) {
		return 0, false, "no messageId and no number"
	}
	camp := ef.fallback
	if ef.campCol >= 0 && ef.campCol < len(row) && strings.TrimSpace(row[ef.campCol]) != "" {
		camp = strings.TrimSpace(row[ef.campCol])
	}
	if camp == "" {
		return 0, false, "no campaign for the number (add a campaign column or -campaign)"
	}
	to, bad := eventNumber(row[ef.toCol], region)
	if bad != "" {
		return 0, false, "to: " + bad
	}
	i, ok := idx.ByNumber(camp, to)
	if !ok {
		return 0, false, fmt.Sprintf("campaign %s sent nothing to %s", safetext.Clip(camp, safetext.MaxShown), to)
	}
	return i, true, "" // matched rows, a million of them, format no reason
}

// eventNumber normalises a number like a recipient's. Exports often write international
// numbers as digits without '+' (as Infobip does); those get one.
func eventNumber(raw, region string) (string, string) {
	raw = strings.TrimSpace(raw)
	if isE164(raw) {
		return raw, "" // the common case, without the cost of a full parse
	}
	if region == "" && raw != "" && !strings.HasPrefix(raw, "+") && !strings.HasPrefix(raw, "0") {
		raw = "+" + raw
	}
	return campaign.Normalize(raw, region)
}

func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// convChunk is how many conversions share one state transaction.
const convChunk = 1000

// submit posts the conversions through a pipeline, so that the network never waits for
// the state nor for the slowest request of a chunk: a marker records chunks as
// "submitting" (durably) and hands their conversions to the workers, and the answers are
// settled in batches as they come.
func submit(ctx context.Context, files []string, idx *state.MessageIndex, todo *pending, store state.Store, api Converter, opts ConvertOptions, res *ConvertResult) error {
	par := opts.Parallelism
	if par <= 0 {
		par = 16
	}
	write := context.WithoutCancel(ctx)
	feedCtx, stopFeeding := context.WithCancel(ctx)
	defer stopFeeding()

	var mu sync.Mutex
	var fatal error
	fail := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		stopFeeding()
	}

	jobs := make(chan *state.Conversion, par)
	results := make(chan *state.Conversion, par*4)
	var producers sync.WaitGroup
	producers.Add(1)
	go func() { // the marker
		defer producers.Done()
		defer close(jobs)
		for ci, chunk := range todo.chunks {
			select {
			case <-opts.Stop:
				mu.Lock()
				res.Stopped = true
				mu.Unlock()
				return
			case <-feedCtx.Done():
				return
			default:
			}
			cs := make([]state.Conversion, len(chunk))
			for i, p := range chunk {
				m := idx.Get(p.msg)
				cs[i] = state.Conversion{Key: state.Key{Campaign: m.Campaign, Round: m.Round, To: m.To}, MessageID: m.MessageID,
					Source: files[p.file] + ":" + strconv.Itoa(int(p.line))}
			}
			todo.chunks[ci] = nil
			if err := store.MarkSubmitting(write, cs); err != nil {
				fail(err)
				return
			}
			for i := range cs {
				select {
				case jobs <- &cs[i]:
				case <-feedCtx.Done():
					for j := i; j < len(cs); j++ { // recorded but never sent: to be forgotten
						results <- &cs[j]
					}
					return
				}
			}
		}
	}()
	for range par {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for c := range jobs {
				if stopped(opts.Stop) {
					mu.Lock()
					res.Stopped = true
					mu.Unlock()
				}
				if feedCtx.Err() != nil || stopped(opts.Stop) { // start no new request
					results <- c
					continue
				}
				processKey, err := api.SubmitConversion(ctx, c.MessageID)
				if err == nil {
					// Infobip's process key is 32 hex digits; what else an answer holds is
					// not stored whole with each of a million conversions.
					c.State, c.ProcessKey = state.Converted, safetext.Clip(processKey, maxProcessKey)
				} else {
					switch failure, _ := failureOf(err); failure {
					case CredentialsRefused:
						fail(err)
					case NothingSent: // 429s past the retries, or never sent: left to forget
					case RequestRefused:
						c.State, c.Error = state.ConvFailed, reasonText(err.Error())
					default: // a 5xx, a lost or unreadable answer: it may have counted
						c.State, c.Error = state.ConvUnknown, reasonText(err.Error())
					}
				}
				results <- c
			}
		}()
	}
	go func() { producers.Wait(); close(results) }()

	var done, undone []state.Conversion
	total, settled, notSent := todo.n, 0, 0
	flush := func() error {
		err := errors.Join(store.RecordConversions(write, done), store.ForgetConversions(write, undone))
		done, undone = done[:0], undone[:0]
		if opts.Progress != nil && err == nil {
			opts.Progress(settled, total)
		}
		return err
	}
	var werr error
	for c := range results {
		settled++
		switch c.State {
		case "":
			undone = append(undone, *c)
			notSent++
			continue
		case state.Converted:
			res.Submitted++
		case state.ConvFailed:
			res.Failed++
			if len(res.Examples) < maxExamples*5 {
				res.Examples = append(res.Examples, fmt.Sprintf("%s: %s", c.Source, c.Error))
			}
		case state.ConvUnknown:
			res.Unknown++
		}
		done = append(done, *c)
		if len(done) >= convChunk && werr == nil {
			if werr = flush(); werr != nil {
				fail(werr)
			}
		}
	}
	if werr == nil {
		werr = flush()
	}
	switch {
	case werr != nil:
		return werr
	case fatal != nil:
		return fatal
	case notSent > 0 && !res.Stopped:
		return fmt.Errorf("%d conversions could not be submitted (rate limited or unreachable); run convert again later", notSent)
	}
	return nil
}
