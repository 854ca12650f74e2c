package state_test

import (
	"slices"
	"testing"

	"github.com/smsform/smsform/state"
)

// TestChunks: every row handed over once, in order, in full chunks and then the rest.
func TestChunks(t *testing.T) {
	var got []int
	var sizes []int
	c := state.NewChunks(func(rows []int) error {
		got = append(got, rows...)
		sizes = append(sizes, len(rows))
		return nil
	})
	n := 2*state.CopyChunk + 3
	for i := range n {
		if err := c.Add(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{state.CopyChunk, state.CopyChunk, 3}) || len(got) != n || got[n-1] != n-1 || got[state.CopyChunk] != state.CopyChunk {
		t.Errorf("chunk sizes %v, %d rows", sizes, len(got))
	}
}
