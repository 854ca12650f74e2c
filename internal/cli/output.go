package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

func printError(w io.Writer, err error, mask campaign.Mask) {
	var ve *campaign.ValidationError
	if errors.As(err, &ve) {
		subject := ve.Subject
		if subject == "" {
			subject = "the campaign files"
		}
		fmt.Fprintf(w, "Error: %d %s in %s:\n%s\n", ve.Count(), words.Plural(ve.Count(), "problem", "problems"), safetext.Escape(subject), mask.Text(ve.Error()))
		return
	}
	// Errors may quote Infobip's texts or a file's values: each line is escaped.
	fmt.Fprintf(w, "Error: %s\n", safetext.Lines(mask.Text(strings.TrimSpace(err.Error()))))
}

// printJSON writes v as an indented JSON document and a newline, as json.Encoder with an
// indent does, with the characters encoding/json leaves raw that would reorder or hide the
// text where it is shown (U+202E, C1 controls) escaped: the values come from files, the
// state and Infobip.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safetext.JSON(data), '\n'))
	return err
}

// docFormatVersion is the format_version of the JSON documents of apply, refresh, convert,
// report, validate and test-send (schema/*.schema.json): 1.x only adds fields.
const docFormatVersion = "1"

// printDoc prints v, a JSON object, as printJSON does, with "format_version" as its first
// member.
func printDoc(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(data) < 2 || data[0] != '{' {
		return fmt.Errorf("printDoc: %T is not a JSON object", v)
	}
	doc := []byte(`{"format_version":"` + docFormatVersion + `"`)
	if string(data) != "{}" {
		doc = append(append(doc, ','), data[1:]...)
	} else {
		doc = append(doc, '}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(safetext.JSON(out.Bytes()))
	return err
}
