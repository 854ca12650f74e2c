package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// FuzzCSVRecords: the reader under every CSV smsform reads is transparent (the CSV reader
// gets the records and errors it would get from the file with its line ends made \n), and
// no record it lets through is over the bound, however its quotes and line ends fall.
func FuzzCSVRecords(f *testing.F) {
	for _, s := range []string{
		"to,name\n+41793026731,Ann\n",
		"a,\"b\nc\"\r\nd,e\r\r\n\n",
		"a,\"b\"\"c\nd\",e\nf,g\n",
		"a,\"never closed\nb,c\nd,e\n",
		"a,b\"c\nd,\"e\"f\ng,h\n",
		"\"\"\"\n\n\"\n,,\n\"a\nb\nc\nd\ne\nf\ng\nh\ni\"",
		"\uFEFFto\r+41793026731\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Transparent when the bound is never reached.
		want := readAll(csv.NewReader(bytes.NewReader(normalized(data))))
		got := readAll(csv.NewReader(&csvRecords{r: bufio.NewReader(bytes.NewReader(data)), line: 1, limit: len(data) + 1}))
		if got != want {
			t.Fatalf("through csvRecords:\n%s\ndirectly:\n%s", got, want)
		}
		// Bounded: no record of more than limit bytes reaches the CSV reader's caller.
		const limit = 8
		r := csv.NewReader(&csvRecords{r: bufio.NewReader(bytes.NewReader(data)), line: 1, limit: limit})
		r.FieldsPerRecord = -1
		for range len(data) + 1 {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if n := len(strings.Join(rec, "")); n > limit {
				t.Fatalf("a record of %d bytes passed the bound of %d: %q (%v)", n, limit, rec, err)
			}
			var long *recordTooLong
			if errors.As(err, &long) {
				if long.line < 1 || long.lines < 1 {
					t.Fatalf("record too long at line %d over %d lines", long.line, long.lines)
				}
				break
			}
		}
	})
}

// normalized is data with \r\n and a lone \r made \n, as csvRecords makes them.
func normalized(data []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
}

// readAll lists the records and errors of r, with each record's line.
func readAll(r *csv.Reader) string {
	r.FieldsPerRecord = -1
	var b strings.Builder
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return b.String()
		}
		line := 0
		if err == nil {
			line, _ = r.FieldPos(0)
		}
		fmt.Fprintf(&b, "%d %q %v\n", line, rec, err)
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return b.String()
		}
	}
}

// TestCSVRecordsLine: a record over the bound is reported at the line it starts on, with
// the lines read of it; a record within it, whatever line ends its quotes hold, is not.
func TestCSVRecordsLine(t *testing.T) {
	for _, tc := range []struct {
		in          string
		line, lines int // 0: no error
	}{
		{"a,b\n\"12345\n6789\"\nc\n", 0, 0}, // 12 bytes, at the bound
		{"a,b\n\n\"1234567\n8901\"\nc\n", 3, 2},
		{"a,b\r\r\"123\r\n456\r\n789\"\r", 3, 3},
		{"a,b\n1234567890123\n", 2, 1},
		{"a,\"b" + strings.Repeat("\n", 9) + "\"", 1, 9},
		{"a," + strings.Repeat(`"`, 10) + "\n", 0, 0},
		{"a," + strings.Repeat(`"`, 12) + "\n", 1, 1},
	} {
		_, err := csvWithLimit(tc.in, 12)
		var long *recordTooLong
		if tc.line == 0 {
			if errors.As(err, &long) {
				t.Errorf("%q: %v, want no error", tc.in, err)
			}
			continue
		}
		if !errors.As(err, &long) || long.line != tc.line || long.lines != tc.lines {
			t.Errorf("%q: %v, want a record too long at line %d over %d lines", tc.in, err, tc.line, tc.lines)
		}
	}
}

// csvWithLimit reads every record of s with the bound limit, and returns the first error
// that is not a CSV syntax error.
func csvWithLimit(s string, limit int) ([][]string, error) {
	r := csv.NewReader(&csvRecords{r: bufio.NewReader(strings.NewReader(s)), line: 1, limit: limit})
	r.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := r.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return out, nil
		case errors.As(err, &pe):
			continue
		case err != nil:
			return out, err
		}
		out = append(out, rec)
	}
}
