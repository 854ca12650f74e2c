package runner

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// eventFile is one events CSV and how its rows name a message.
type eventFile struct {
	path     string
	idCol    int // messageId / message_id, or -1
	toCol    int // to / phone, or -1
	campCol  int // campaign, or -1
	fallback string
}

// eventColumns finds the columns an events CSV matches messages by. Column names are
// compared without case, spaces or underscores (messageId, message_id, MessageID).
func eventColumns(path string, header []string, campaignFlag string) (eventFile, error) {
	f := eventFile{path: path, idCol: -1, toCol: -1, campCol: -1, fallback: campaignFlag}
	for i, h := range header {
		switch strings.NewReplacer("_", "", " ", "", "\uFEFF", "").Replace(strings.ToLower(strings.TrimSpace(h))) {
		case "messageid":
			f.idCol = i
		case "to", "phone":
			f.toCol = i
		case "campaign":
			f.campCol = i
		}
	}
	switch {
	case f.idCol >= 0:
	case f.toCol < 0:
		// The header is not listed: the file may be anything (a committed symlink to a file
		// of secrets), and its first line anything.
		msg := fmt.Sprintf("no column names a message: want messageId (or message_id), or to (or phone) with campaign; the header (%d %s) has no messageId, message_id, to or phone", len(header), words.Plural(len(header), "column", "columns"))
		if name := campaign.NumberColumn(header); name != "" {
			msg += fmt.Sprintf(": rename %s, the column of numbers, to `to`", safetext.Quote(name))
		}
		return f, errors.New(msg)
	case f.campCol < 0 && campaignFlag == "":
		return f, errors.New("rows match by number, which needs a campaign column or -campaign ID")
	}
	return f, nil
}

// eachEvent streams the rows of an events CSV. A malformed file stops at the broken line.
func eachEvent(path, campaignFlag string, fn func(ef *eventFile, row []string, line int) error) error {
	// convert runs in CI with the API key in its environment, on files a pull request may
	// have added: an events file is opened as a file a campaign names is.
	fh, err := campaign.OpenInput(path, campaign.MaxCSVBytes)
	if err != nil {
		return problemAt(path, 0, "cannot read: "+err.Error())
	}
	defer fh.Close()
	r := campaign.NewCSVReader(io.LimitReader(fh, campaign.MaxCSVBytes))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // exports are often ragged; only the columns used must be there
	header, err := r.Read()
	if err == io.EOF {
		return problemAt(path, 1, "the file is empty; it needs a header row")
	}
	if err != nil {
		return csvError(path, err)
	}
	ef, err := eventColumns(path, header, campaignFlag)
	if err != nil {
		return problemAt(path, 1, err.Error())
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		if err := fn(&ef, row, line); err != nil {
			return err
		}
	}
}

func problemAt(file string, line int, msg string) error {
	return &campaign.ValidationError{Problems: []campaign.Problem{{File: file, Line: line, Msg: msg}}}
}

func csvError(path string, err error) error {
	return &campaign.ValidationError{Problems: []campaign.Problem{campaign.CSVProblem(path, err)}}
}
