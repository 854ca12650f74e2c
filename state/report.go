package state

// ReportRow is the figures of one campaign round, or of one group within it.
type ReportRow struct {
	Campaign    string
	Round       int
	Group       string // the day, number prefix or tracking type for grouped reports
	Messages    int
	Sent        int // accepted by Infobip
	SentTracked int // of those, sent with tracking: the base of the conversion rate
	Delivered   int
	Undelivered int
	Expired     int
	Rejected    int // accepted, then rejected by the network
	Failed      int
	Unknown     int
	Converted   int
	SmsParts    int
}

// Groupings the report understands.
const (
	ByNone   = ""
	ByDay    = "day"
	ByType   = "type"
	ByPrefix = "prefix" // the first digits of the number; the caller maps them to countries
	// ByVariant groups by an experiment's variant: the name, with HeldSuffix for the held
	// recipients sent the winner; "" for messages without variant.
	ByVariant  = "variant"
	HeldSuffix = " held"
	// PrefixLen is how much of a number ByPrefix groups by: '+' and up to four digits,
	// enough for every country calling code.
	PrefixLen = 5
)

// Delivery is a status read from Infobip's logs.
type Delivery struct {
	Key
	MessageID   string
	StatusGroup int
	StatusID    int
	StatusName  string
	DoneAt      string
}
