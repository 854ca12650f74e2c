package state

// MessageRow is one row of the messages table as it is stored, every column, for copying a
// state between backends (`smsform state migrate`).
type MessageRow struct {
	Key
	Attempt      int
	MessageID    string
	BulkID       string
	Hash         int64
	State        State
	StatusGroup  *int64
	StatusID     *int64
	StatusName   *string
	SmsCount     int
	TrackingType *string
	Error        *string
	CreatedAt    string
	SendingAt    string
	UpdatedAt    string
	DoneAt       *string
	// What deciding an unknown outcome needs (migration 0003): the first attempt of the
	// current messageId, and a person's decision.
	FirstMessageID *string
	FirstSendingAt *string
	Resolution     *string
	ResolvedBy     *string
	ResolvedAt     *string
	// The contact policy's (migration 0006): purpose, scheduled send time, consent.
	Purpose       *string
	SendAt        *string
	ConsentAt     *string
	ConsentSource *string
	// The experiment's variant and whether the recipient was held out of its test
	// (migration 0005).
	Variant *string
	Held    int
}

// ConversionRow is one row of the conversions table as it is stored.
type ConversionRow struct {
	Key
	MessageID   string
	State       ConversionState
	ProcessKey  *string
	Error       *string
	Source      string
	SubmittedAt string
	UpdatedAt   string
}

// Contents counts what a state holds, to refuse copying into a state that holds anything
// and to check a copy.
type Contents struct {
	Messages, Conversions, InFlight int
	OptOuts, Replies, TestSends     int
	Decisions                       int
}

// Empty reports whether the state holds nothing.
func (c Contents) Empty() bool { return c == Contents{} }

// CopyChunk is how many rows an export hands over at a time and an import writes per
// statement: a million rows are never all in memory.
const CopyChunk = 5000

// Chunks hands rows to fn CopyChunk at a time, reusing one buffer: Add each row, then Flush
// the rest. Every backend's export uses it.
type Chunks[T any] struct {
	fn  func([]T) error
	buf []T
}

// NewChunks returns an empty Chunks that hands its rows to fn.
func NewChunks[T any](fn func([]T) error) *Chunks[T] {
	return &Chunks[T]{fn: fn, buf: make([]T, 0, CopyChunk)}
}

// Add appends v, handing the chunk to fn when it is full.
func (c *Chunks[T]) Add(v T) error {
	if c.buf = append(c.buf, v); len(c.buf) < CopyChunk {
		return nil
	}
	err := c.fn(c.buf)
	c.buf = c.buf[:0]
	return err
}

// Flush hands the rows not handed over yet to fn.
func (c *Chunks[T]) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	return c.fn(c.buf)
}
