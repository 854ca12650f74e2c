package state

import (
	"testing"
	"unsafe"
)

// TestIndexedSize: an indexed message is 16 bytes, what convert holds per recorded
// message (ten million: 160 MB).
func TestIndexedSize(t *testing.T) {
	if n := unsafe.Sizeof(indexed{}); n != 16 {
		t.Errorf("indexed is %d bytes, want 16", n)
	}
}
