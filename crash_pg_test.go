package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/pgtest"
)

// TestKillApplyPostgres is the kill test (see killApply) against a PostgreSQL state, on a
// default account, with the logs answering at once and lagging an hour: every message
// delivered exactly once, and the final plan empty.
func TestKillApplyPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for a few seconds")
	}
	t.Parallel()
	for _, lag := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("logs-lag=%s", lag), func(t *testing.T) {
			t.Parallel()
			killApply(t, lag, 0, pgtest.NewDatabase(t), 12)
		})
	}
}
