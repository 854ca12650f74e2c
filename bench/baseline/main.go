// Command baseline is what smsform is measured against: simple, fair ways to send a
// personalised campaign through the same API.
//
//	baseline -mode careful   one request per message, with a durable record per message:
//	                         recorded "sending" (fsync) before its request, and its outcome
//	                         after, in SQLite
//	baseline -mode stateless one request per message, no record at all
//	baseline -mode batched   the requests apply sends (POST /sms/3/messages, -batch-size
//	                         messages each, -parallelism in flight, the same body), with no
//	                         state and no checks: what sending costs, and apply's bound
//
// It reads the campaign CSV (to,name,code) that bench writes and sends the first -n rows.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
)

func main() {
	mode := flag.String("mode", "stateless", "careful, stateless or batched")
	csvPath := flag.String("csv", "", "recipients CSV (to,name,code)")
	n := flag.Int("n", 50_000, "messages to send")
	par := flag.Int("parallelism", 16, "requests in flight")
	db := flag.String("db", "baseline.db", "state file of the careful mode")
	batchSize := flag.Int("batch-size", 500, "messages per request of the batched mode")
	flag.Parse()
	log.SetFlags(0)
	base, key := os.Getenv("INFOBIP_BASE_URL"), os.Getenv("INFOBIP_API_KEY")

	rows := readRows(*csvPath, *n)
	if *mode == "batched" {
		start := time.Now()
		sendBatched(base, key, rows, *batchSize, *par)
		el := time.Since(start)
		fmt.Printf("%s: %d messages in %.2f s, %.0f msg/s\n", *mode, len(rows), el.Seconds(), float64(len(rows))/el.Seconds())
		return
	}
	var rec recorder = noRecord{}
	if *mode == "careful" {
		rec = openCareful(*db)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *par}}
	jobs := make(chan [3]string)
	var wg sync.WaitGroup
	start := time.Now()
	for range *par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				id := "bl-" + strings.TrimPrefix(r[0], "+")
				rec.sending(id, r[0])
				status := send(client, base, key, id, r)
				rec.done(id, status)
			}
		}()
	}
	for _, r := range rows {
		jobs <- r
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("%s: %d messages in %.2f s, %.0f msg/s\n", *mode, len(rows), el.Seconds(), float64(len(rows))/el.Seconds())
}

func readRows(path string, n int) [][3]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	if _, err := r.Read(); err != nil {
		log.Fatal(err)
	}
	var rows [][3]string
	for len(rows) < n {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		rows = append(rows, [3]string{rec[0], rec[1], rec[2]})
	}
	return rows
}

func send(client *http.Client, base, key, id string, r [3]string) string {
	body, _ := json.Marshal(map[string]any{
		"messages": []any{map[string]any{
			"from":         "InfoSMS",
			"destinations": []any{map[string]string{"to": strings.TrimPrefix(r[0], "+"), "messageId": id}},
			"text":         fmt.Sprintf("Hi %s, your code is %s.", r[1], r[2]),
		}},
		"tracking": map[string]string{"track": "SMS", "type": "Bench"},
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/sms/2/text/advanced", bytes.NewReader(body))
	req.Header.Set("Authorization", "App "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "unknown"
	}
	defer resp.Body.Close()
	var out struct {
		Messages []struct {
			Status struct{ GroupName string } `json:"status"`
		} `json:"messages"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Messages) == 0 {
		return "failed"
	}
	return out.Messages[0].Status.GroupName
}

// sendBatched sends rows as apply does: the bench campaign's messages (the same ids, texts,
// options and bulk ids) in requests of batchSize, par in flight, through a client with
// apply's transport settings; an answer is read and decoded, and nothing else is done
// with it.
func sendBatched(base, key string, rows [][3]string, batchSize, par int) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	jobs := make(chan [][3]string)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				postBatch(client, base, key, b)
			}
		}()
	}
	for len(rows) > 0 {
		n := min(batchSize, len(rows))
		jobs <- rows[:n]
		rows = rows[n:]
	}
	close(jobs)
	wg.Wait()
}

func postBatch(client *http.Client, base, key string, rows [][3]string) {
	const campaign = "bench"
	req := &infobip.MessagesRequest{Messages: make([]infobip.MessageV3, len(rows))}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = runner.MessageID(campaign, 1, r[0], 0)
		req.Messages[i] = infobip.MessageV3{
			Sender:       "InfoSMS",
			Destinations: []infobip.Destination{{To: strings.TrimPrefix(r[0], "+"), MessageID: ids[i]}},
			Content:      infobip.TextContent{Text: fmt.Sprintf("Hi %s, your code is %s.", r[1], r[2])},
			Options:      &infobip.MessageOptionsV3{CampaignReferenceID: campaign},
		}
	}
	req.Options = &infobip.RequestOptionsV3{
		Schedule:                  &infobip.Schedule{BulkID: runner.BulkID(campaign, 1, ids)},
		IncludeSmsCountInResponse: true,
		ConversionTracking:        &infobip.ConversionTracking{UseConversionTracking: true, ConversionTrackingName: "Bench"},
	}
	body, err := json.Marshal(req)
	if err != nil {
		log.Fatal(err)
	}
	hreq, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+infobip.PathMessages, bytes.NewReader(body))
	hreq.Header.Set("Authorization", "App "+key)
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(hreq)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out infobip.MessagesResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Messages) != len(rows) {
		log.Fatalf("batch of %d: status %d, %d answers", len(rows), resp.StatusCode, len(out.Messages))
	}
}

type recorder interface {
	sending(id, to string)
	done(id, status string)
}

type noRecord struct{}

func (noRecord) sending(string, string) {}
func (noRecord) done(string, string)    {}

// careful records each message on its own, durably, as a careful script would.
type careful struct{ db *sql.DB }

func openCareful(path string) *careful {
	os.Remove(path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE messages (id TEXT PRIMARY KEY, destination TEXT, state TEXT, status TEXT)"); err != nil {
		log.Fatal(err)
	}
	return &careful{db: db}
}

func (c *careful) sending(id, to string) {
	if _, err := c.db.Exec("INSERT INTO messages (id, destination, state) VALUES (?, ?, 'sending')", id, to); err != nil {
		log.Fatal(err)
	}
}

func (c *careful) done(id, status string) {
	if _, err := c.db.Exec("UPDATE messages SET state = 'sent', status = ? WHERE id = ?", status, id); err != nil {
		log.Fatal(err)
	}
}
