package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/partition"
)

// How the provisioned throughput of containers is read and kept.
const (
	throughputTTL      = 5 * time.Minute  // a container's throughput is read again after this
	throughputRetry    = 30 * time.Second // a failed read is not tried again before this
	throughputAttempts = 3                // attempts of one read of a document (429s, failures)
	maxThroughputs     = 1024             // containers whose throughput is kept
)

// ErrNoThroughput is a container without provisioned throughput to share:
// a serverless account, or neither the container nor its database has an
// offer.
var ErrNoThroughput = errors.New("no provisioned throughput")

// throughputs keeps the provisioned throughput of containers.
type throughputs struct {
	mu      sync.Mutex // guards entries
	entries map[string]*throughputEntry
}

// throughputEntry is one container's provisioned throughput, or the
// read that is finding it.
type throughputEntry struct {
	done chan struct{} // closed when the read ends; the fields below are then read-only
	ru   float64
	err  error
	at   time.Time
}

// Provisioned returns the provisioned RU/s of container
// ("dbs/{db}/colls/{coll}"): its own offer's, else its database's shared
// offer's; an autoscale offer's maximum. It reads them at most once at a
// time per container, keeps the answer five minutes (a failure thirty
// seconds), and waits for a read in flight only until ctx ends. Its errors
// say what could not be read; ErrNoThroughput when there is nothing to
// read (a serverless account, or no offer).
func (r *Router) Provisioned(ctx context.Context, container string) (float64, error) {
	t := &r.throughputs
	t.mu.Lock()
	if t.entries == nil {
		t.entries = make(map[string]*throughputEntry)
	}
	e := t.entries[container]
	now := r.now()
	if e != nil {
		select {
		case <-e.done:
			ttl := throughputTTL
			if e.err != nil {
				ttl = throughputRetry
			}
			if now.Sub(e.at) >= ttl {
				e = nil
			}
		default:
		}
	}
	if e == nil {
		if len(t.entries) >= maxThroughputs {
			for k, old := range t.entries {
				select {
				case <-old.done:
					delete(t.entries, k)
				default:
				}
				if len(t.entries) < maxThroughputs {
					break
				}
			}
		}
		e = &throughputEntry{done: make(chan struct{})}
		t.entries[container] = e
		if !r.startThroughputRead(container, e) {
			delete(t.entries, container)
			t.mu.Unlock()
			return 0, errClosed
		}
	}
	t.mu.Unlock()
	select {
	case <-e.done:
		return e.ru, e.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// startThroughputRead starts reading container's throughput into e, on a
// goroutine Close waits for; false once the router is closed.
func (r *Router) startThroughputRead(container string, e *throughputEntry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.readThroughput(container, e)
	}()
	return true
}

// readThroughput reads container's provisioned throughput into e, under
// the router's lifetime, not a caller's: callers that stop waiting leave
// it to the next ones.
func (r *Router) readThroughput(container string, e *throughputEntry) {
	ctx, cancel := context.WithTimeout(r.closeCtx, 30*time.Second)
	defer cancel()
	e.ru, e.err = r.provisioned(ctx, container)
	e.at = r.now()
	close(e.done)
}

func (r *Router) provisioned(ctx context.Context, container string) (float64, error) {
	db, _, _ := strings.Cut(strings.TrimPrefix(container, "dbs/"), "/colls/")
	for _, link := range []string{container, "dbs/" + db} {
		doc, err := r.readDocument(ctx, link)
		if err != nil {
			return 0, err
		}
		var res struct {
			RID string `json:"_rid"`
		}
		if err := json.Unmarshal(doc, &res); err != nil || res.RID == "" {
			return 0, fmt.Errorf("reading %s: no resource id", link)
		}
		ru, found, err := r.offerOf(ctx, res.RID)
		if err != nil || found {
			return ru, err
		}
	}
	return 0, fmt.Errorf("%w: neither %s nor its database has an offer", ErrNoThroughput, container)
}

// readDocument reads the metadata document at link, retrying 429s and
// failures a few times.
func (r *Router) readDocument(ctx context.Context, link string) ([]byte, error) {
	var err error
	for range throughputAttempts {
		var doc []byte
		if doc, _, err = r.readMetadata(ctx, link, ""); err == nil {
			return doc, nil
		}
		if !r.pauseAfter(ctx, err) {
			break
		}
	}
	return nil, err
}

// offerOf queries the account's offers for the one of the resource whose
// _rid is rid, as azcosmos does, and returns its RU/s.
func (r *Router) offerOf(ctx context.Context, rid string) (ru float64, found bool, err error) {
	q, _ := json.Marshal(map[string]any{
		"query":      "SELECT * FROM c WHERE c.offerResourceId = @rid",
		"parameters": []map[string]string{{"name": "@rid", "value": rid}},
	})
	for range throughputAttempts {
		var body []byte
		body, err = r.queryOffers(ctx, q)
		if err == nil {
			return parseOffers(body)
		}
		if errors.Is(err, ErrNoThroughput) || !r.pauseAfter(ctx, err) {
			break
		}
	}
	return 0, false, err
}

// queryOffers POSTs the offers query q and returns the answer's body.
func (r *Router) queryOffers(ctx context.Context, q []byte) ([]byte, error) {
	base := r.endpoint
	if eps := r.readEndpoints(); len(eps) > 0 {
		base = eps[0]
	}
	u := *base
	u.Path, u.RawPath, u.RawQuery = "/offers", "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(q))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/query+json")
	req.Header.Set("X-Ms-Documentdb-Isquery", "true")
	if err := Sign(ctx, req, r.cred, r.now()); err != nil {
		return nil, err
	}
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBody+1))
	switch {
	case err != nil:
		return nil, err
	case len(body) > maxMetadataBody:
		return nil, fmt.Errorf("reading offers: over %d bytes", maxMetadataBody)
	case resp.StatusCode == http.StatusOK:
		return body, nil
	case resp.StatusCode == http.StatusBadRequest:
		// The service refuses to read offers of a serverless account.
		return nil, fmt.Errorf("%w: reading offers: status 400 (a serverless account has no offers)", ErrNoThroughput)
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, &retryAfterError{status: resp.StatusCode, wait: decide.MetadataRetryAfter(resp.Header, r.now(), time.Second)}
	}
	return nil, fmt.Errorf("reading offers: status %d", resp.StatusCode)
}

// retryAfterError is a throttled metadata read and its hint.
type retryAfterError struct {
	status int
	wait   time.Duration
}

func (e *retryAfterError) Error() string { return fmt.Sprintf("status %d", e.status) }

// pauseAfter waits before the next attempt of a read that failed with
// err: the hint of a 429, else a quarter second; false when ctx ended or
// the failure is final.
func (r *Router) pauseAfter(ctx context.Context, err error) bool {
	wait := 250 * time.Millisecond
	var ra *retryAfterError
	if errors.As(err, &ra) {
		wait = ra.wait
	}
	var lerr *partition.LoadError
	if errors.As(err, &lerr) {
		if lerr.Final {
			return false
		}
		if lerr.RetryAfter > 0 {
			wait = lerr.RetryAfter
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// parseOffers returns the RU/s of the first offer in an offers feed: an
// autoscale offer's maximum, else its manual throughput.
func parseOffers(body []byte) (float64, bool, error) {
	var feed struct {
		Offers []struct {
			Content struct {
				Throughput *float64 `json:"offerThroughput"`
				Autoscale  *struct {
					Max *float64 `json:"maxThroughput"`
				} `json:"offerAutopilotSettings"`
			} `json:"content"`
		} `json:"Offers"`
	}
	if err := json.Unmarshal(body, &feed); err != nil {
		return 0, false, fmt.Errorf("reading offers: %w", err)
	}
	if len(feed.Offers) == 0 {
		return 0, false, nil
	}
	c := feed.Offers[0].Content
	var ru float64
	switch {
	case c.Autoscale != nil && c.Autoscale.Max != nil:
		ru = *c.Autoscale.Max
	case c.Throughput != nil:
		ru = *c.Throughput
	}
	if !(ru > 0 && ru < 1e9) {
		return 0, false, errors.New("reading offers: an offer without a usable throughput")
	}
	return ru, true, nil
}
