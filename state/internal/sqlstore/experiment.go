package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/smsform/smsform/state"
)

// trial reads what the state holds of experiment round r, in the snapshot's transaction:
// the test's figures per variant (the held recipients sent the winner left out) and the
// recorded decision. Nil when the round has neither.
func (q *Queries) trial(ctx context.Context, tx Querier, r state.Round, variants bool) (*state.Trial, error) {
	t := &state.Trial{}
	if variants {
		var last string
		// Counted as the campaign report counts: sent with tracking is the base, and a
		// conversion is counted by the key of its message.
		rows, err := q.query(ctx, tx, `SELECT m.variant,
				COUNT(CASE WHEN m.state = 'sent' AND m.tracking_type IS NOT NULL THEN 1 END),
				COUNT(c.destination),
				COALESCE(MAX(CASE WHEN m.state = 'sent' THEN m.sending_at END), '')
			FROM messages m LEFT JOIN conversions c ON c.campaign = m.campaign AND c.round = m.round
				AND c.destination = m.destination AND c.message_id = m.message_id AND c.state = 'converted'
			WHERE m.campaign = ? AND m.round = ? AND m.variant IS NOT NULL AND m.held = 0
			GROUP BY m.variant`, r.Campaign, r.Round)
		arms, err := scanAll(rows, err, func(a *state.Arm) []any { return []any{&a.Variant, &a.SentTracked, &a.Converted, &last} },
			func(*state.Arm) error {
				if at := state.ParseTime(last); at.After(t.LastTestSend) {
					t.LastTestSend = at
				}
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("read the test of %s round %d: %w", r.Campaign, r.Round, err)
		}
		t.Arms = arms
	}
	ds, err := q.decisions(ctx, tx, "campaign = ? AND round = ?", r.Campaign, r.Round)
	if err != nil {
		return nil, err
	}
	if len(ds) > 0 {
		t.Decision = &ds[0]
	}
	if len(t.Arms) == 0 && t.Decision == nil {
		return nil, nil
	}
	return t, nil
}

// Decisions lists the experiments' recorded decisions, of one campaign or ("") all.
func (q *Queries) Decisions(ctx context.Context, campaign string) ([]state.Decision, error) {
	return q.decisions(ctx, nil, "? = '' OR campaign = ?", campaign, campaign)
}

func (q *Queries) decisions(ctx context.Context, db Querier, where string, args ...any) ([]state.Decision, error) {
	var at, figures string
	rows, err := q.query(ctx, db, `SELECT campaign, round, winner, decided_by, decided_at, reason, figures FROM experiments
		WHERE `+where+` ORDER BY campaign COLLATE "C", round`, args...)
	return scanAll(rows, err, func(d *state.Decision) []any {
		return []any{&d.Campaign, &d.Round.Round, &d.Winner, &d.DecidedBy, &at, &d.Reason, &figures}
	}, func(d *state.Decision) error {
		d.DecidedAt = state.ParseTime(at)
		if err := json.Unmarshal([]byte(figures), &d.Arms); err != nil {
			return fmt.Errorf("the decision of %s round %d: its figures: %w", d.Campaign, d.Round.Round, err)
		}
		return nil
	})
}

// RecordDecision records an experiment round's decision unless one is recorded, in one
// durable transaction, and returns the one recorded.
func (q *Queries) RecordDecision(ctx context.Context, d state.Decision) (state.Decision, error) {
	if d.Winner == "" || (d.DecidedBy != state.DecidedByFile && d.DecidedBy != state.DecidedByAuto) {
		return d, fmt.Errorf("record the decision of %s round %d: a winner, decided by file or auto, is required", d.Campaign, d.Round.Round)
	}
	var out state.Decision
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		n, err := q.insertDecision(ctx, tx, d)
		if err != nil {
			return 0, fmt.Errorf("record the decision of %s round %d: %w", d.Campaign, d.Round.Round, err)
		}
		ds, err := q.decisions(ctx, sqlDB{tx}, "campaign = ? AND round = ?", d.Campaign, d.Round.Round)
		if err != nil {
			return 0, err
		}
		if len(ds) == 0 {
			return 0, errors.New("the decision recorded cannot be read back")
		}
		out = ds[0]
		return n, nil
	})
	return out, err
}

// insertDecision inserts a decision unless its round has one.
func (q *Queries) insertDecision(ctx context.Context, tx *sql.Tx, d state.Decision) (int64, error) {
	query, args, err := q.d.InsertDecision(d)
	if err != nil {
		return 0, err
	}
	return affected(tx.ExecContext(ctx, query, args...))
}

// InsertDecision is the statement, in the dialect, that records a decision unless its
// round has one, and its arguments: for a backend that writes through its own driver.
func (d Dialect) InsertDecision(dec state.Decision) (string, []any, error) {
	figures := []byte("[]")
	if len(dec.Arms) > 0 {
		var err error
		if figures, err = json.Marshal(dec.Arms); err != nil {
			return "", nil, err
		}
	}
	return d.SQL(`INSERT INTO experiments (campaign, round, winner, decided_by, decided_at, reason, figures)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (campaign, round) DO NOTHING`),
		[]any{dec.Campaign, dec.Round.Round, dec.Winner, dec.DecidedBy, state.FormatTime(dec.DecidedAt), dec.Reason, string(figures)}, nil
}
