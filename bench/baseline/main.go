// Command baseline is what smsform is measured against: two simple, fair ways to send a
// personalised campaign through the same API, one request per message.
//
//	baseline -mode careful   a durable record per message: recorded "sending" (fsync) before
//	                         its request, and its outcome after, in SQLite
//	baseline -mode stateless no record at all
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
)

func main() {
	mode := flag.String("mode", "stateless", "careful or stateless")
	csvPath := flag.String("csv", "", "recipients CSV (to,name,code)")
	n := flag.Int("n", 50_000, "messages to send")
	par := flag.Int("parallelism", 16, "requests in flight")
	db := flag.String("db", "baseline.db", "state file of the careful mode")
	flag.Parse()
	log.SetFlags(0)
	base, key := os.Getenv("INFOBIP_BASE_URL"), os.Getenv("INFOBIP_API_KEY")

	rows := readRows(*csvPath, *n)
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
