package state

import (
	"context"
	"time"
)

// The interfaces below are what a backend implements, small ones composed into Store (as
// Terraform's statemgr composes its reader, writer and locker), so that each user names
// only what it needs: plan and report a Reader, which works with a database role that may
// only SELECT; `state migrate` a Copier. Every backend passes the same conformance suite
// (state/statetest).

// Reader is what plan and report need of a state: reads only.
type Reader interface {
	// Name is the state as a user wrote it, without a password: for messages.
	Name() string
	Version(ctx context.Context) (Version, error)
	// Snapshot reads the records of the given rounds, with the batches in flight counted as
	// sending and the active opt-outs, in one read transaction, so that the version and
	// the records agree.
	Snapshot(ctx context.Context, rounds []Round) (*Snapshot, error)
	// List returns recorded messages matching f, ordered by campaign, round and number.
	List(ctx context.Context, f Filter) ([]Message, error)
	// Counts returns how many messages are in each state, per campaign round.
	Counts(ctx context.Context) (map[Round]map[State]int, error)
	// Report aggregates the state per campaign round, and per group of by (ByDay, ...).
	Report(ctx context.Context, campaign, by string) ([]ReportRow, error)
	// Index reads every recorded message with its conversion state.
	Index(ctx context.Context) (*MessageIndex, error)
	// Unresolved lists the messages of unknown outcome, oldest attempt first.
	Unresolved(ctx context.Context) ([]Pending, error)
	// Undecided lists the unknown outcomes with their first attempt and any decision a
	// person made about them.
	Undecided(ctx context.Context) ([]Undecided, error)
	// CountUnresolved counts the messages of unknown outcome, those in flight included.
	CountUnresolved(ctx context.Context) (int, error)
	// AwaitingDelivery lists sent messages whose delivery is still to be read from the
	// logs, sent since the given time, optionally of one campaign.
	AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]Pending, error)
	// AwaitingDeliveryPage is AwaitingDelivery a page at a time, for states of millions: at
	// most limit messages (limit > 0), in the order of their bulkId, then messageId (as
	// bytes), those after the message after (nil: from the first). A page shorter than
	// limit is the last.
	AwaitingDeliveryPage(ctx context.Context, campaign string, since time.Time, after *Pending, limit int) ([]Pending, error)
	// CountAwaitingDelivery counts the messages AwaitingDelivery lists.
	CountAwaitingDelivery(ctx context.Context, campaign string, since time.Time) (int, error)
	// OptOuts lists the active opt-outs, or (all) every one ever recorded, removed ones too.
	OptOuts(ctx context.Context, all bool) ([]OptOut, error)
	// TestSends lists the test sends, oldest first.
	TestSends(ctx context.Context) ([]TestSend, error)
	// Contacts reads the marketing messages of every campaign that frequency caps count
	// (recorded sent, sending or unknown, or in flight) that went out after since.
	Contacts(ctx context.Context, since time.Time) (*Contacts, error)
	// Decisions lists the experiments' recorded decisions, of one campaign or ("") all,
	// by campaign and round.
	Decisions(ctx context.Context, campaign string) ([]Decision, error)
}

// Writer is what apply, convert and refresh record. Each method is one transaction;
// MarkSending, MarkSubmitting and NoteFirstAttempts are durable when they return, because
// the request they guard leaves right after. Writes are made by the holder of the state's
// lock only.
type Writer interface {
	// MarkSending records a request's messages as in flight ("sending") before it leaves.
	MarkSending(ctx context.Context, msgs []Outgoing) (*Batch, error)
	// SettleMany records the outcome of every message of several batches and removes them
	// from those in flight. A message recorded before is overwritten in place.
	SettleMany(ctx context.Context, items []Settlement) error
	// Forget removes a batch whose request provably did nothing.
	Forget(ctx context.Context, b *Batch) error
	// RecordOutcomes settles recorded messages of unknown outcome (reconciliation).
	RecordOutcomes(ctx context.Context, outs []Outcome) error
	// MarkInterrupted records the messages of every batch left in flight as unknown: for
	// the lock's holder, any such batch belongs to a run that died.
	MarkInterrupted(ctx context.Context) (int, error)
	// RecordDeliveries stores delivery statuses of sent messages; they stay sent.
	RecordDeliveries(ctx context.Context, ds []Delivery) error
	// MarkSubmitting records conversions as "submitting" before their requests leave.
	MarkSubmitting(ctx context.Context, cs []Conversion) error
	// RecordConversions settles conversions after their answers.
	RecordConversions(ctx context.Context, cs []Conversion) error
	// ForgetConversions removes "submitting" records whose requests provably did nothing.
	ForgetConversions(ctx context.Context, cs []Conversion) error
	// MarkConversionsInterrupted turns conversions left "submitting" into unknown ones.
	MarkConversionsInterrupted(ctx context.Context) (int, error)
	// NoteFirstAttempts remembers, before messages of unknown outcome are sent again with
	// the same messageId, when that messageId was first sent, and uses up a person's
	// "unsent" decision: the idempotency window runs from the first attempt.
	NoteFirstAttempts(ctx context.Context, keys []Key) error
	// Resolve records a person's decision about messages of unknown (or abandoned) outcome
	// and returns the keys it applied to.
	Resolve(ctx context.Context, r Resolution) ([]Key, error)
	// RecordReplies records one pull of inbound replies and the opt-outs of the new ones in
	// one durable transaction: the API hands each reply out once.
	RecordReplies(ctx context.Context, replies []Reply) (ReplyCounts, error)
	// AddOptOut records an opt-out by hand, and reports false when the number has one.
	AddOptOut(ctx context.Context, o OptOut) (bool, error)
	// RemoveOptOut lifts a number's opt-out, keeping who lifted it, when and why; it
	// reports false when the number has none.
	RemoveOptOut(ctx context.Context, number, by, reason string, at time.Time) (bool, error)
	// RecordTestSend records a test send.
	RecordTestSend(ctx context.Context, ts TestSend) error
	// RecordCapped records messages a frequency cap held back as Capped, reasons[i] being
	// that of msgs[i], in one transaction: they are never sent for their round.
	RecordCapped(ctx context.Context, msgs []Outgoing, reasons []string) error
	// RecordDecision records an experiment round's decision, durably, unless one is
	// recorded already, and returns the one recorded: a decision never changes.
	RecordDecision(ctx context.Context, d Decision) (Decision, error)
}

// SettlingWriter is a Writer that can record answers in the transaction that marks the
// next batch sending: one durable commit instead of a durable and a lazy one, and the
// pages both write (the serial, the batches in flight) written once. The order of durable
// facts is unchanged: the answers of batches already sent, then the new batch in flight,
// both before its request leaves.
type SettlingWriter interface {
	// MarkSendingAfter settles items (SettleMany) and records msgs as in flight
	// (MarkSending) in one durable transaction: neither is recorded without the other. It
	// refuses msgs that MarkSending would refuse before touching items.
	MarkSendingAfter(ctx context.Context, items []Settlement, msgs []Outgoing) (*Batch, error)
}

// ConcurrentWriter is a Writer whose writes may run at once, each on a connection of its
// own, as a database server's do (SQLite has a single writer). Writers is how many of
// apply's answer-recording transactions run at once serve it best.
type ConcurrentWriter interface {
	Writers() int
}

// Lock is a held writer's lock.
type Lock interface {
	// Release gives the lock up.
	Release() error
}

// Locker takes a state's one-writer lock.
type Locker interface {
	// Lock takes the lock for command, waiting up to timeout (0: fail at once) while
	// another process holds it; then it is a *LockedError naming the holder. A backend
	// whose lock can be lost while its process lives (a database session) makes the writes
	// that guard a request check, from then on, that the lock is still held.
	Lock(ctx context.Context, command string, timeout time.Duration) (Lock, error)
}

// Export hands every message row to msgs and every conversion row to convs, CopyChunk at
// a time, in key order.
type Export func(msgs func([]MessageRow) error, convs func([]ConversionRow) error) error

// Copier is what copying a state to another backend needs (`smsform state migrate`).
type Copier interface {
	// Contents counts the rows of each table.
	Contents(ctx context.Context) (Contents, error)
	// ExportMessages hands every message row to fn, in key order, CopyChunk at a time.
	ExportMessages(ctx context.Context, fn func([]MessageRow) error) error
	// ExportConversions hands every conversion row to fn, in key order, CopyChunk at a time.
	ExportConversions(ctx context.Context, fn func([]ConversionRow) error) error
	// InFlight lists the batches recorded as in flight.
	InFlight(ctx context.Context) ([]Batch, error)
	// ExportSideTables reads the opt-outs (history included), replies and test sends.
	ExportSideTables(ctx context.Context) (SideTables, error)
	// Import writes what export hands over, the batches in flight and the side tables, in
	// one transaction: a copy is all or nothing.
	Import(ctx context.Context, export Export, batches []Batch, side SideTables) error
}

// Store is a state smsform reads and writes, whichever backend keeps it (a SQLite file, a
// PostgreSQL database).
type Store interface {
	Reader
	Writer
	Locker
	Copier
	// Close closes the state. A lock taken from it is given up by its own Release.
	Close() error
}
