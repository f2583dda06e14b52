package account

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cosmosrt/cosmosrt/internal/decide"
	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// The probes of read circuits: once a tripped range's open period is over,
// the first read that finds it due goes elsewhere as before, and the chain
// tests the region for the range with a probe of its own, a point read of
// an id no item has (cosmosrt-probe-…) under a partition key the range
// holds (partition.Cache.KeyIn): one request unit. 404 without sub-status
// means that the range answers there, and closes the circuit; a failure
// opens it again; an answer that says neither (401, 403: the credential may
// not read items) leaves the test to a real call, as does a circuit a
// probe cannot test: one that counted a write's failure (a read cannot show
// that the range takes writes), one tripped by lost hedges (a probe cannot
// show that the region answers in time), one of a container whose key
// cannot be found. No call waits for a probe or pays a failed attempt for
// it.

// Bounds of the probes.
const (
	maxProbes     = 8               // in flight at once, across all ranges (one per range and region)
	probeTimeout  = 5 * time.Second // one probe's request; no answer by then counts as a failure
	maxProbeDrain = 64 << 10        // bytes of a probe's answer read so that its connection is reused
)

// errProbeNoKey reports a probe that found no partition key in its range.
var errProbeNoKey = errors.New("no partition key found in the range")

// errProbeHost reports a probe of an endpoint that the account no longer
// lists: it is not signed or sent.
var errProbeHost = errors.New("the endpoint is not the account's")

// startProbe starts the probe of range rangeID of container in the region
// at ep, whose test check gave to a probe. It runs on its own goroutine,
// which Close ends and waits for.
func (r *Router) startProbe(container, rangeID string, ep *url.URL) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.parts.probeEnded(container, rangeID, ep, notCounted)
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		r.probe(container, rangeID, ep)
	}()
}

// probe tests the region at ep for range rangeID of container, reports
// the answer to the circuit, and its change to telemetry with the probe's
// context (see RouterOptions.OnProbe).
func (r *Router) probe(container, rangeID string, ep *url.URL) {
	ctx, end := r.closeCtx, func(int, error) {}
	if r.onProbe != nil {
		ctx, end = r.onProbe(ctx, PartitionEvent{Container: container, Range: rangeID, Region: r.nameOfHost(ep.Host)})
	}
	status, v, err := r.sendProbe(ctx, container, rangeID, ep)
	if change := r.parts.probeEnded(container, rangeID, ep, v); change != 0 {
		r.partitionChanged(ctx, container, rangeID, ep, change)
	}
	end(status, err)
}

// sendProbe sends the probe and returns the status it met (0: none), how
// it counts, and the error that ended it, if any.
func (r *Router) sendProbe(ctx context.Context, container, rangeID string, ep *url.URL) (int, verdict, error) {
	if !r.serves(ep) {
		return 0, unclear, errProbeHost
	}
	pk, ok := r.ranges.KeyIn(container, rangeID)
	if !ok {
		return 0, unclear, errProbeNoKey
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	u := *ep
	u.Path = "/" + container + "/docs/cosmosrt-probe-" + strconv.FormatUint(rand.Uint64(), 36)
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, unclear, err
	}
	req.Header.Set(wire.HeaderPartitionKey, pk)
	if err := Sign(ctx, req, r.cred, r.now()); err != nil {
		return 0, unclear, err
	}
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		switch {
		case r.closeCtx.Err() != nil:
			return 0, notCounted, err
		case ctx.Err() != nil:
			return 0, readFailure, err // no answer in time
		}
		if failure, counted := decide.PartitionVerdict(nil, err); failure {
			return 0, readFailure, err
		} else if !counted {
			return 0, notCounted, err
		}
		return 0, unclear, err
	}
	wire.Drain(resp, maxProbeDrain, cancel)
	if decide.RangeGone(resp) {
		r.rangeGone(container) // split: the cached ranges are stale
	}
	if sub, _ := wire.LookupSubStatus(resp.Header); resp.StatusCode == http.StatusNotFound && sub == 0 {
		return resp.StatusCode, success, nil
	}
	switch failure, counted := decide.PartitionVerdict(resp, nil); {
	case failure:
		return resp.StatusCode, readFailure, nil
	case !counted:
		return resp.StatusCode, notCounted, nil
	}
	return resp.StatusCode, unclear, nil
}

// probeEnded counts the answer of a probe of range rangeID of container in
// the region at ep (see check), and returns what it did to the circuit:
// as record does; for an answer that does not count (see
// decide.PartitionVerdict) the range is probed again after another open
// period; for an unclear one it is not probed again, and the next call
// tests it.
func (p *partitions) probeEnded(container, rangeID string, ep *url.URL, v verdict) PartitionChange {
	p.mu.Lock()
	p.probes--
	i := p.t.find(container, rangeID, ep.Host)
	if i == noIndex || p.t.at(i).until == 0 && v != success && v != readFailure {
		p.mu.Unlock()
		return 0 // forgotten, or closed, meanwhile: nothing to end
	}
	var change PartitionChange
	var markRegion bool
	switch c := p.t.at(i); v {
	case unclear:
		c.flags |= flagNoProbe
		p.releaseLocked(c)
	case notCounted:
		// Cut short, throttled, or a routing answer: the next probe waits
		// for another open period rather than follow at once.
		c.flags &^= flagTesting | flagProbing
		c.until = p.reopenAt()
	default:
		change, markRegion = p.recordLocked(i, container, rangeID, ep.Host, v)
	}
	p.mu.Unlock()
	if markRegion && p.mark != nil {
		p.mark(ep)
	}
	return change
}

// serves reports whether ep is one of the account's endpoints now: a
// probe is signed and sent only there.
func (r *Router) serves(ep *url.URL) bool {
	if !r.Owns(ep) {
		return false
	}
	for _, eps := range [][]*url.URL{r.readEndpoints(), r.writeEndpoints()} {
		for _, e := range eps {
			if sameEndpoint(e, ep) {
				return true
			}
		}
	}
	return false
}
