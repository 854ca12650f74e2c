package sqlite_test

import (
	"testing"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/statetest"
)

// TestConformance runs the suite every backend passes against the SQLite file.
func TestConformance(t *testing.T) {
	statetest.Run(t, func(t testing.TB) state.Store {
		s, _ := open(t)
		return s
	})
}
