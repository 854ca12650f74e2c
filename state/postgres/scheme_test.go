package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state/postgres"
)

// TestSchemeCase: POSTGRES:// in capitals is a PostgreSQL URL, and connects.
func TestSchemeCase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	upper := "POSTGRES" + strings.TrimPrefix(url, "postgres")
	if _, err := postgres.Init(context.Background(), upper); err != nil {
		t.Fatalf("Init(%s): %v", upper, err)
	}
}
