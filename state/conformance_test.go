package state_test

import (
	"testing"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state/statetest"
)

// TestConformance runs the suite every backend passes against the SQLite file.
func TestConformance(t *testing.T) {
	statetest.Run(t, func(t testing.TB) runner.Store {
		s, _ := open(t)
		return s
	})
}
