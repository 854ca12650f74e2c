package runner

import (
	"context"
	"time"

	"github.com/smsform/smsform/state"
)

// StateReader is what plan and report need of a state: reads only, so that they work with
// a database role that may only SELECT.
type StateReader interface {
	// Name is the state as a user wrote it, without a password: for messages.
	Name() string
	Version(ctx context.Context) (state.Version, error)
	Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error)
	List(ctx context.Context, f state.Filter) ([]state.Message, error)
	Counts(ctx context.Context) (map[state.Round]map[state.State]int, error)
	Report(ctx context.Context, campaign, by string) ([]state.ReportRow, error)
	Index(ctx context.Context) (*state.MessageIndex, error)
	Unresolved(ctx context.Context) ([]state.Pending, error)
	// Undecided lists the unknown outcomes with their first attempt and any decision a
	// person made about them.
	Undecided(ctx context.Context) ([]state.Undecided, error)
	CountUnresolved(ctx context.Context) (int, error)
	AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]state.Pending, error)
	// OptOuts lists the active opt-outs, or (all) every one ever recorded, removed ones too.
	OptOuts(ctx context.Context, all bool) ([]state.OptOut, error)
	Close() error
}

// StateWriter is what apply, convert and refresh record. Each method is one transaction;
// MarkSending and MarkSubmitting are durable when they return, because the request they
// guard leaves right after.
type StateWriter interface {
	MarkSending(ctx context.Context, msgs []state.Outgoing) (*state.Batch, error)
	SettleMany(ctx context.Context, items []state.Settlement) error
	Forget(ctx context.Context, b *state.Batch) error
	RecordOutcomes(ctx context.Context, outs []state.Outcome) error
	MarkInterrupted(ctx context.Context) (int, error)
	RecordDeliveries(ctx context.Context, ds []state.Delivery) error
	MarkSubmitting(ctx context.Context, cs []state.Conversion) error
	RecordConversions(ctx context.Context, cs []state.Conversion) error
	ForgetConversions(ctx context.Context, cs []state.Conversion) error
	MarkConversionsInterrupted(ctx context.Context) (int, error)
	// NoteFirstAttempts is durable when it returns: a resend with the same messageId leaves
	// right after, and the idempotency window runs from the first attempt.
	NoteFirstAttempts(ctx context.Context, keys []state.Key) error
	Resolve(ctx context.Context, r state.Resolution) ([]state.Key, error)
	// RecordReplies records one pull of inbound replies and the opt-outs of the new ones in
	// one durable transaction: the API hands each reply out once.
	RecordReplies(ctx context.Context, replies []state.Reply) (state.ReplyCounts, error)
	AddOptOut(ctx context.Context, o state.OptOut) (bool, error)
	RemoveOptOut(ctx context.Context, number, by, reason string, at time.Time) (bool, error)
	RecordTestSend(ctx context.Context, ts state.TestSend) error
}

// Store is a state smsform reads and writes, whichever backend keeps it (a SQLite file, a
// PostgreSQL database). Writes are only made by the holder of the state's lock.
type Store interface {
	StateReader
	StateWriter
}
