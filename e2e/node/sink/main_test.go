package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(t *testing.T, mux http.Handler, path, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec.Code
}

func stats(t *testing.T, mux http.Handler, path string) Stats {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	var s Stats
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(key string, id int) string {
	v, _ := json.Marshal(map[string]any{"id": id, "payload": "x"})
	m, _ := json.Marshal(map[string]any{"topic": "t", "partition": 0, "offset": id, "key": key, "value": string(v)})
	return string(m)
}

func TestCountsDuplicatesMissingAndOrder(t *testing.T) {
	mux := newMux()
	// JSON array: ids 1, 2, 3 for key a; 4 for key b.
	if c := post(t, mux, "/ingest/s1", "["+msg("a", 1)+","+msg("a", 2)+","+msg("a", 3)+","+msg("b", 4)+"]"); c != 200 {
		t.Fatalf("post: %d", c)
	}
	// NDJSON: a redelivery of 2 and 3 (duplicates, not order violations), then 6 for b, then 5 for b
	// (an order violation: b already saw 6).
	if c := post(t, mux, "/ingest/s1", msg("a", 2)+"\n"+msg("a", 3)+"\n"+msg("b", 6)+"\n"+msg("b", 5)+"\n"); c != 200 {
		t.Fatalf("post: %d", c)
	}
	s := stats(t, mux, "/stats/s1?expect=8")
	want := Stats{Bucket: "s1", Requests: 2, Received: 8, Unique: 6, Duplicates: 2, OrderViolations: 1, MaxID: 6,
		Expect: 8, Missing: 2, FirstMissing: []int64{7, 8}}
	if got, _ := json.Marshal(s); string(got) != mustJSON(want) {
		t.Fatalf("stats\n got %s\nwant %s", got, mustJSON(want))
	}
	if other := stats(t, mux, "/stats/other"); other.Received != 0 {
		t.Fatalf("buckets are separate, got %+v", other)
	}
}

func TestBadBodyIsRejectedAndCounted(t *testing.T) {
	mux := newMux()
	if c := post(t, mux, "/ingest/s", "[not json"); c != http.StatusBadRequest {
		t.Fatalf("want 400, got %d", c)
	}
	if s := stats(t, mux, "/stats/s"); s.BadRequests != 1 || s.Received != 0 {
		t.Fatalf("got %+v", s)
	}
}

func TestValueWithoutIDIsCountedApart(t *testing.T) {
	mux := newMux()
	if c := post(t, mux, "/ingest/s", `[{"topic":"t","key":null,"value":"plain text"}]`); c != 200 {
		t.Fatalf("post: %d", c)
	}
	if s := stats(t, mux, "/stats/s?expect=1"); s.WithoutID != 1 || s.Unique != 0 || s.Missing != 1 {
		t.Fatalf("got %+v", s)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDelayIsValidated(t *testing.T) {
	mux := newMux()
	if c := post(t, mux, "/ingest/s?delayMs=abc", "[]"); c != http.StatusBadRequest {
		t.Fatalf("want 400, got %d", c)
	}
	if c := post(t, mux, "/ingest/s?delayMs=1", "["+msg("a", 1)+"]"); c != 200 {
		t.Fatalf("want 200, got %d", c)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestCutShortBodyIsCountedAsAborted(t *testing.T) {
	mux := newMux()
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/ingest/s", failingReader{}))
	if s := stats(t, mux, "/stats/s"); s.Aborted != 1 || s.BadRequests != 0 || s.Received != 0 {
		t.Fatalf("got %+v", s)
	}
}
