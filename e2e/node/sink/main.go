// sluice-e2e-sink: the HTTP endpoint the node e2e's pipelines deliver to (spec.sink.http). It
// records the id of every message it receives, per bucket (the last path segment of
// /ingest/<bucket>, one per scenario), and answers what a scenario asserts: how many were
// received, how many distinct ids, how many duplicates, which ids of 1..expect are missing, and
// how often a key's first delivery of an id came after a higher id of the same key (per-key order).
//
//	sluice-e2e-sink [--listen :8080]
//	POST   /ingest/<bucket>[?delayMs=N] a batch: a JSON array (format json) or NDJSON (format ndjson)
//	                                   of the worker's message objects; the id is the integer "id"
//	                                   field of the JSON in "value", the key is "key" (else "topic").
//	                                   delayMs: answer N ms later (a slow endpoint, so that a burst
//	                                   takes long enough to disturb the workers mid-stream)
//	GET    /stats/<bucket>?expect=N    {"received":..,"unique":..,"duplicates":..,"missing":..,...}
//	DELETE /stats/<bucket>             forget a bucket
//	GET    /healthz                    200 "ok"
//
// A body it cannot parse is answered 400 and counted as a bad request: the worker treats 4xx as
// terminal, so a format mistake shows up as loss instead of being hidden. A body cut short (the
// sender died mid-request) is counted as aborted. Standard library only,
// built static (CGO_ENABLED=0) into a FROM scratch image.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// message is the part of the worker's message object the sink reads (worker/http_delivery.cc).
type message struct {
	Topic *string `json:"topic"`
	Key   *string `json:"key"`
	Value string  `json:"value"`
}

// bucket holds what one scenario's pipeline delivered. Guarded by sink.mu.
type bucket struct {
	requests    int64
	badRequests int64
	aborted     int64
	received    int64
	seen        map[int64]int64 // id -> deliveries
	lastByKey   map[string]int64
	orderErrors int64
	noID        int64
}

func newBucket() *bucket {
	return &bucket{seen: map[int64]int64{}, lastByKey: map[string]int64{}}
}

type sink struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

// Stats is the answer to GET /stats/<bucket>.
type Stats struct {
	Bucket          string  `json:"bucket"`
	Requests        int64   `json:"requests"`
	BadRequests     int64   `json:"badRequests"`
	Aborted         int64   `json:"aborted"`
	Received        int64   `json:"received"`
	Unique          int64   `json:"unique"`
	Duplicates      int64   `json:"duplicates"`
	OrderViolations int64   `json:"orderViolations"`
	WithoutID       int64   `json:"withoutId"`
	MaxID           int64   `json:"maxId"`
	Expect          int64   `json:"expect,omitempty"`
	Missing         int64   `json:"missing"`
	FirstMissing    []int64 `json:"firstMissing,omitempty"`
	Unexpected      int64   `json:"unexpected"`
}

// parseBatch reads a JSON array or NDJSON body into messages.
func parseBatch(body []byte) ([]message, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if trimmed[0] == '[' {
		var batch []message
		if err := json.Unmarshal(trimmed, &batch); err != nil {
			return nil, fmt.Errorf("body is not a JSON array of messages: %w", err)
		}
		return batch, nil
	}
	var batch []message
	sc := bufio.NewScanner(bytes.NewReader(trimmed))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("NDJSON line %d is not a message object: %w", line, err)
		}
		batch = append(batch, m)
	}
	return batch, sc.Err()
}

// messageID is the integer "id" of the JSON object in the message value.
func messageID(m message) (int64, bool) {
	var v struct {
		ID *int64 `json:"id"`
	}
	if json.Unmarshal([]byte(m.Value), &v) != nil || v.ID == nil {
		return 0, false
	}
	return *v.ID, true
}

func orderKey(m message) string {
	if m.Key != nil {
		return "key:" + *m.Key
	}
	if m.Topic != nil {
		return "topic:" + *m.Topic
	}
	return ""
}

// record adds one delivered batch to b.
func (b *bucket) record(batch []message) {
	b.requests++
	for _, m := range batch {
		b.received++
		id, ok := messageID(m)
		if !ok {
			b.noID++
			continue
		}
		b.seen[id]++
		if b.seen[id] > 1 {
			continue // a redelivery: counted as a duplicate, not as an order violation
		}
		k := orderKey(m)
		if last, ok := b.lastByKey[k]; ok && id < last {
			b.orderErrors++
		} else {
			b.lastByKey[k] = id
		}
	}
}

func (b *bucket) stats(name string, expect int64) Stats {
	s := Stats{Bucket: name, Requests: b.requests, BadRequests: b.badRequests, Aborted: b.aborted, Received: b.received,
		Unique: int64(len(b.seen)), OrderViolations: b.orderErrors, WithoutID: b.noID, Expect: expect}
	for id, n := range b.seen {
		s.Duplicates += n - 1
		if id > s.MaxID {
			s.MaxID = id
		}
		if expect > 0 && (id < 1 || id > expect) {
			s.Unexpected++
		}
	}
	if expect > 0 {
		for id := int64(1); id <= expect; id++ {
			if _, ok := b.seen[id]; !ok {
				s.Missing++
				if len(s.FirstMissing) < 10 {
					s.FirstMissing = append(s.FirstMissing, id)
				}
			}
		}
	}
	return s
}

func (s *sink) get(name string) *bucket {
	b, ok := s.buckets[name]
	if !ok {
		b = newBucket()
		s.buckets[name] = b
	}
	return b
}

func bucketName(path, prefix string) (string, bool) {
	name := strings.TrimPrefix(path, prefix)
	if name == path || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

func (s *sink) ingest(w http.ResponseWriter, r *http.Request) {
	name, ok := bucketName(r.URL.Path, "/ingest/")
	if !ok || r.Method != http.MethodPost {
		http.Error(w, "POST /ingest/<bucket>", http.StatusNotFound)
		return
	}
	if d := r.URL.Query().Get("delayMs"); d != "" {
		ms, err := strconv.Atoi(d)
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "delayMs must be an integer 0..60000, got "+strconv.Quote(d), http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	body, readErr := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(name)
	if readErr != nil {
		// The sender went away mid-request (a worker killed while posting): nothing was
		// delivered, and nobody reads the answer. Counted apart from malformed bodies.
		b.aborted++
		log.Printf("bucket %s: request aborted: %v", name, readErr)
		return
	}
	batch, err := parseBatch(body)
	if err != nil {
		b.badRequests++
		log.Printf("bucket %s: bad request: %v", name, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.record(batch)
	w.WriteHeader(http.StatusOK)
}

func (s *sink) statsHandler(w http.ResponseWriter, r *http.Request) {
	name, ok := bucketName(r.URL.Path, "/stats/")
	if !ok {
		http.Error(w, "GET|DELETE /stats/<bucket>", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.Method {
	case http.MethodDelete:
		delete(s.buckets, name)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		var expect int64
		if e := r.URL.Query().Get("expect"); e != "" {
			v, err := strconv.ParseInt(e, 10, 64)
			if err != nil || v < 0 {
				http.Error(w, "expect must be a non-negative integer, got "+strconv.Quote(e), http.StatusBadRequest)
				return
			}
			expect = v
		}
		b, ok := s.buckets[name]
		if !ok {
			b = newBucket()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b.stats(name, expect))
	default:
		http.Error(w, "GET|DELETE /stats/<bucket>", http.StatusMethodNotAllowed)
	}
}

func (s *sink) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.buckets))
	for n := range s.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(names)
}

func newMux() *http.ServeMux {
	s := &sink{buckets: map[string]*bucket{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ingest/", s.ingest)
	mux.HandleFunc("/stats/", s.statsHandler)
	mux.HandleFunc("/stats", s.list)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

func main() {
	listen := flag.String("listen", ":8080", "address to listen on")
	flag.Parse()
	log.Printf("sluice-e2e-sink listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, newMux()))
}
