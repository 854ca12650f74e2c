package infobip

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDecodeAPIErrorBounded: whatever an error answer holds, the APIError's text is one
// line of escaped text of bounded length: no line break, control character or "##[" from
// the answer, at most a few hundred bytes of text and a few details.
func TestDecodeAPIErrorBounded(t *testing.T) {
	huge := strings.Repeat("Bad request ", 4<<20/12)
	many := map[string][]string{}
	for i := range 5000 {
		many[fmt.Sprintf("messages[%d].destinations[0].to", i)] = []string{"must not be blank\n::error::x"}
	}
	v1 := func(text string, verr map[string][]string) string {
		b := NewErrorBody("BAD_REQUEST", text)
		b.RequestError.ServiceException.ValidationErrors = verr
		data, _ := json.Marshal(b)
		return string(data)
	}
	v3 := func(desc string, n int) string {
		e := V3Error{ErrorCode: "E400", Description: desc, Action: "Fix it\n##[error]forged"}
		for i := range n {
			e.Violations = append(e.Violations, Violation{Property: fmt.Sprint("p", i), Violation: huge[:1000]})
		}
		data, _ := json.Marshal(e)
		return string(data)
	}
	for name, body := range map[string]string{
		"4 MB text":                v1(huge, nil),
		"line breaks and commands": v1("Bad request\nApply complete: 0 failed\n::error::x ##[error]y \x1b[2J\u202e", nil),
		"5000 validation errors":   v1("Bad request", many),
		"v3, 4 MB and violations":  v3(huge, 300),
		"not JSON, line breaks":    "<html>\n##[error]x\n</html>" + huge,
		"a 4 MB error code":        `{"errorCode":"` + strings.Repeat("E", 4<<20) + `","description":"x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := decodeAPIError(400, []byte(body))
			msg := e.Error()
			if strings.ContainsAny(msg, "\n\r\x1b\u202e") || strings.Contains(msg, "##[") {
				t.Errorf("Error() holds a line break, a control character or ##[: %q", msg[:min(len(msg), 300)])
			}
			if len(e.Code) > maxErrorCode || len(e.Text) > maxErrorText || len(e.Details) > maxErrorDetails+1 {
				t.Errorf("code %d bytes, text %d bytes, %d details", len(e.Code), len(e.Text), len(e.Details))
			}
			for _, d := range e.Details {
				if len(d) > maxErrorDetail {
					t.Errorf("a detail of %d bytes", len(d))
				}
			}
			if len(msg) > 3000 {
				t.Errorf("Error() is %d bytes", len(msg))
			}
		})
	}
	e := decodeAPIError(400, []byte(v1(huge, nil)))
	if !strings.HasPrefix(e.Text, "Bad request Bad request") || !strings.HasSuffix(e.Text, fmt.Sprintf("... (cut: %d bytes in all)", len(huge))) {
		t.Errorf("a cut text says what it was: %q", e.Text)
	}
	e = decodeAPIError(400, []byte(v1("Bad request", many)))
	if e.Details[maxErrorDetails] != "... and 4990 more" {
		t.Errorf("the details left out are counted: %q", e.Details[len(e.Details)-1])
	}
}

// TestTransportErrorBounded: a transport error quoting an unreadable answer is one bounded
// line.
func TestTransportErrorBounded(t *testing.T) {
	err := &TransportError{Err: errors.New("cannot read " + strings.Repeat("x\n##[error]", 1<<20)), Written: true}
	msg := err.Error()
	if len(msg) > 700 || strings.ContainsAny(msg, "\n") || strings.Contains(msg, "##[") {
		t.Errorf("%d bytes: %q", len(msg), msg[:min(len(msg), 200)])
	}
}
