// Package state is the vocabulary of smsform's record of every message, shared by every
// layer: the values (Key, Outgoing, Batch, Snapshot, MessageIndex, ...), the builders that
// assemble the compact read models, the domain rules the record obeys (which Infobip status
// proves a send, see status.go), and the Store interface a backend implements (store.go).
//
// It imports no database driver. The backends are packages of their own: state/sqlite (a
// file, the default) and state/postgres (a database for teams); state/backend picks one
// from what a user wrote in --state; state/statetest is the conformance suite both pass.
// The state is the only proof of what was sent, so every backend makes each write a
// transaction, and the writes that prevent a double send durable before the request they
// guard leaves.
package state

import (
	"errors"
	"strconv"
	"time"
)

// State is where a message stands.
type State string

// The states of a message. A message is recorded "sending" before its request leaves;
// the answer makes it "sent" or "failed"; no answer makes it "unknown" until reconciled.
const (
	Sending State = "sending"
	Sent    State = "sent"
	Failed  State = "failed"
	Unknown State = "unknown"
	// Abandoned is an unknown outcome that can no longer be resolved or resent: not found in
	// the logs after the grace, and no longer in the files.
	Abandoned State = "abandoned"
	// Capped is a marketing message a frequency cap held back (the reason in its error):
	// never sent for its round, so that a promotion does not go out late.
	Capped State = "capped"
)

// The purposes recorded with a message (see campaign.Campaign.Purpose).
const (
	Marketing     = "marketing"
	Transactional = "transactional"
)

// Key names one message: a number in one round of one campaign.
type Key struct {
	Campaign string
	Round    int
	To       string // E.164
}

// Round names one round of one campaign.
type Round struct {
	Campaign string
	Round    int
}

// Version identifies a state's content: lineage is fixed when the state is created, serial
// grows with every write.
type Version struct {
	Lineage string `json:"lineage"`
	Serial  int64  `json:"serial"`
}

// ErrTooNew means the state was written by a newer smsform.
var ErrTooNew = errors.New("state file is newer than this smsform")

// ErrNoState means there is no state where one was named: `smsform init` creates one.
var ErrNoState = errors.New("no state")

const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime is t as every backend stores it: UTC text to the millisecond, which sorts
// as it reads and survives a copy between backends unchanged.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time written by FormatTime (the zero time if it cannot).
func ParseTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

// Now is the current time as FormatTime writes it: to the millisecond, so that a time
// recorded and read back compares equal to the one kept in memory.
func Now() time.Time { return ParseTime(FormatTime(time.Now())) }

// NumberKey turns an E.164 number into its digits as an integer (E.164 has at most 15):
// how the state keys numbers in memory (Recorded.GetKey, Contacts).
func NumberKey(to string) (uint64, bool) {
	if len(to) < 2 || to[0] != '+' {
		return 0, false
	}
	k, err := strconv.ParseUint(to[1:], 10, 64)
	return k, err == nil
}

// NumberText is the E.164 number whose digits NumberKey gives as k.
func NumberText(k uint64) string { return "+" + strconv.FormatUint(k, 10) }

// numberKeyOf is numberKey of a number read as bytes, digit by digit, without making a
// string of them: a backend reads a million of them for a snapshot.
func numberKeyOf(to []byte) (uint64, bool) {
	// 19 digits always fit in a uint64; longer is no E.164 number, left to ParseUint.
	if len(to) < 2 || to[0] != '+' || len(to) > 20 {
		return NumberKey(string(to))
	}
	var k uint64
	for _, c := range to[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		k = k*10 + uint64(c-'0')
	}
	return k, true
}
