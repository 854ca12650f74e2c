package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// NewCSVReader reads the records of a CSV as smsform reads every CSV (destinations,
// suppression lists, prices, event files): a leading byte-order mark, which spreadsheets
// write and the CSV reader would take for part of the first cell, is dropped; the old Mac
// line end (a lone \r) and \r\n read as \n, so that lines are counted as an editor counts
// them; and a record over MaxCSVLine bytes stops the reader with an error that CSVProblem
// words, before the CSV reader holds more of it.
func NewCSVReader(r io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	}
	return csv.NewReader(&csvRecords{r: br, line: 1, limit: MaxCSVLine})
}

// CSVProblem words an error of a reader made by NewCSVReader as a problem at the line it
// concerns: a record over the bound at the line it starts on, broken quoting where the CSV
// reader found it. It quotes nothing of the file.
func CSVProblem(file string, err error) Problem {
	var long *recordTooLong
	var pe *csv.ParseError
	switch {
	case errors.As(err, &long):
		return Problem{File: file, Line: long.line, Msg: long.problem()}
	case errors.As(err, &pe):
		return Problem{File: file, Line: pe.Line, Msg: "CSV: " + pe.Err.Error()}
	}
	return Problem{File: file, Msg: "CSV: " + err.Error()}
}

func csvProblem(ps *problems, file string, err error) {
	p := CSVProblem(file, err)
	ps.add(p.File, p.Line, p.Field, "%s", p.Msg)
}

// recordTooLong stops a CSV record over its bound.
type recordTooLong struct {
	line  int // the line the record starts on
	lines int // lines read of it
	limit int
}

func (e *recordTooLong) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.problem()) }

func (e *recordTooLong) problem() string {
	if e.lines == 1 {
		return fmt.Sprintf("the line is longer than %d bytes; is this a CSV file?", e.limit)
	}
	return fmt.Sprintf("the record that starts on this line runs past %d bytes over %d lines (a quoted field holding line breaks, or a quote never closed); is this a CSV file?", e.limit, e.lines)
}

// csvState is where csvRecords is in the CSV's syntax, as encoding/csv reads it (quotes
// open a field only at its start, and "" in a quoted field is a quote).
type csvState uint8

const (
	atRecord   csvState = iota // before a record: only line ends so far, which the reader skips
	atField                    // at the start of a field, after a comma
	inField                    // in a field without quotes
	inQuotes                   // in a quoted field, where line ends do not end the record
	afterQuote                 // a quote in a quoted field: "" goes on, anything else ends it
)

// csvRecords feeds the CSV reader. It turns \r and \r\n into \n, and follows the syntax
// closely enough to know where each record starts and ends, quoted line breaks included:
// the bound is on a record, which is what the CSV reader holds in memory whole, not on a
// line, which a quoted field may hold any number of.
type csvRecords struct {
	r     *bufio.Reader
	line  int // 1-based line being read
	start int // the line the record being read starts on
	size  int // bytes of that record so far, quotes and quoted line breaks included
	state csvState
	cr    bool // the last byte was \r (now \n): a \n right after it is dropped
	limit int  // MaxCSVLine; smaller in tests
	err   error
}

func (l *csvRecords) Read(p []byte) (int, error) {
	for l.err == nil {
		n, err := l.r.Read(p)
		w := 0
		for i := range n {
			c := p[i]
			if c > '"' && c != ',' && (l.state == inField || l.state == inQuotes) {
				// Most bytes: neither a line end, a quote nor a comma, inside a field.
				l.cr = false
				if l.size++; l.size > l.limit {
					return w, l.tooLong()
				}
				p[w] = c
				w++
				continue
			}
			if c == '\n' && l.cr {
				l.cr = false
				continue
			}
			l.cr = c == '\r'
			if l.cr {
				c = '\n'
			}
			if !l.step(c) {
				return w, l.tooLong()
			}
			p[w] = c
			w++
		}
		if w > 0 || n == 0 || err != nil {
			return w, err
		}
		// Only a dropped \n: read on rather than return 0, nil.
	}
	return 0, l.err
}

func (l *csvRecords) tooLong() error {
	l.err = &recordTooLong{line: l.start, lines: l.line - l.start + 1, limit: l.limit}
	return l.err
}

// step follows one byte; false means the record is now over its bound.
func (l *csvRecords) step(c byte) bool {
	if l.state == atRecord {
		if c == '\n' {
			l.line++
			return true
		}
		l.start, l.size, l.state = l.line, 0, atField
	}
	switch l.state {
	case atField:
		switch c {
		case '"':
			l.state = inQuotes
		case ',':
		case '\n':
			l.state = atRecord
		default:
			l.state = inField
		}
	case inField:
		switch c {
		case ',':
			l.state = atField
		case '\n':
			l.state = atRecord
		}
	case inQuotes:
		if c == '"' {
			l.state = afterQuote
		}
	case afterQuote:
		switch c {
		case '"':
			l.state = inQuotes
		case ',':
			l.state = atField
		case '\n':
			l.state = atRecord
		default:
			// The CSV reader reports a stray quote and goes on at the next line.
			l.state = inField
		}
	}
	if c == '\n' && l.state == atRecord {
		l.line++
		return true // the line end that ends a record is not part of it
	}
	if l.size++; l.size > l.limit {
		return false
	}
	if c == '\n' {
		l.line++
	}
	return true
}
