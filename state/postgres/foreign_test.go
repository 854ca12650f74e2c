package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state/postgres"
)

// TestForeignMigrations: a schema_migrations table of another tool, at any version, is not
// smsform's state: Open refuses it as not initialised, and Init refuses to run migrations on
// top of it.
func TestForeignMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL)", "INSERT INTO schema_migrations VALUES (1, false)"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
	if _, err := postgres.Open(ctx, url); !errors.Is(err, postgres.ErrNotInitialized) || !strings.Contains(err.Error(), "not smsform's") {
		t.Errorf("Open: %v; want ErrNotInitialized naming the foreign table", err)
	}
	if _, err := postgres.Init(ctx, url); err == nil || !strings.Contains(err.Error(), "not smsform's") {
		t.Errorf("Init: %v; want a refusal", err)
	}
}
