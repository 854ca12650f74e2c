package state

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// MessageID is the deterministic messageId of a message: the same campaign, round, number
// and attempt always give the same id, so a message whose answer was lost can be found in
// Infobip's logs, and an account with idempotent sending recognises a resend as a duplicate.
// It is "sf-" and the first 16 bytes of a SHA-256 of them, in lower-case hex.
func MessageID(campaign string, round int, to string, attempt int) string {
	sum := messageIDSum(campaign, round, to, attempt)
	return "sf-" + hex.EncodeToString(sum[:])
}

// messageIDSum is the 16 bytes of MessageID's id, from the number as text or bytes.
func messageIDSum[T ~string | ~[]byte](campaign string, round int, to T, attempt int) [16]byte {
	var b [96]byte
	in := append(b[:0], campaign...)
	in = append(in, 0)
	in = strconv.AppendInt(in, int64(round), 10)
	in = append(in, 0)
	in = append(in, to...)
	if attempt > 0 {
		in = append(in, 0)
		in = strconv.AppendInt(in, int64(attempt), 10)
	}
	sum := sha256.Sum256(in)
	return [16]byte(sum[:16])
}
