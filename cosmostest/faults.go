package cosmostest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Ops selects the requests a Fault or Chaos applies to.
type Ops int

const (
	// AllOps selects every request, DatabaseAccount reads included.
	AllOps Ops = iota
	// ReadOps selects reads other than the DatabaseAccount: GET requests
	// and queries.
	ReadOps
	// WriteOps selects writes: create, upsert, replace, patch and delete of
	// items, transactional batches, and creates and deletes of databases
	// and containers (any request that is neither a GET nor a query).
	WriteOps
	// AccountOps selects DatabaseAccount reads (GET /) only.
	AccountOps
)

func (o Ops) matches(class Ops) bool { return o == AllOps || o == class }

// A Fault scripts the answer of an endpoint to the requests it matches.
//
// Faults apply after the signature check (a request that fails it gets
// 401 and consumes no fault) and before the request reaches the write
// region check or the store, so a faulted write is never committed; a
// DropAfterCommit fault is the exception, as it exists to commit a write
// its client never hears about. A fault's answer to a request that reaches
// a partition key range names that range in
// x-ms-documentdb-partitionkeyrangeid, as the account's own answer would,
// unless Header sets that header.
type Fault struct {
	// Status is the status code to answer with. 0 answers with whatever
	// the account would have answered, after Delay.
	Status int

	// SubStatus, when not 0, is sent as x-ms-substatus.
	SubStatus int

	// Header holds extra response headers, such as x-ms-retry-after-ms.
	// Headers are sent exactly as given: no hint is added for a 429.
	Header http.Header

	// Count is how many matching requests the fault answers before it
	// leaves the queue. Count ≤ 0 answers every matching request until
	// ClearFaults.
	Count int

	// Ops selects the requests the fault matches. Default: AllOps.
	Ops Ops

	// Container, when not "", limits the fault to requests under the
	// container (or collection) it names as "db/coll": requests for its
	// items, its pkranges feed and the container itself.
	Container string

	// Range, when not "", limits the fault to requests that reach the
	// partition key range with this id: those that name it in
	// x-ms-documentdb-partitionkeyrangeid, and those whose
	// x-ms-documentdb-partitionkey value the range holds (see "Partition
	// key ranges" in the package documentation). A request to a collection
	// without a partition key, a cross-partition query or read feed, and a
	// request that names a range that no longer exists match no such
	// fault. Range ids are per container: combine Range with Container in
	// an account with several.
	Range string

	// PartitionKey, when not "", limits the fault to requests to a
	// container whose x-ms-documentdb-partitionkey names this value, given
	// as that header is: a JSON array such as ["eu"] or [42]. Values are
	// compared, not spellings: [42.0] names [42]. A request without the
	// header (a query by range, a create that leaves the key to the
	// document) matches no such fault.
	PartitionKey string

	// Delay is a real wait before the answer (or the drop). It ends early,
	// without an answer, if the client goes away or the account closes.
	// Delay ≤ 0 means no wait.
	Delay time.Duration

	// Hold, when not nil, keeps the request waiting, after Delay, until
	// Hold is closed: the test says when the answer (or the drop) goes,
	// for instance once InFlight shows that every request it expects has
	// arrived. The wait ends early, without an answer, if the client goes
	// away or the account closes.
	Hold <-chan struct{}

	// Drop closes the connection without an answer, after Delay; it
	// overrides Status and DropAfterCommit. Note that net/http's Transport
	// silently resends a GET dropped on a reused connection, so the client
	// may see the resend's answer instead of an error.
	Drop bool

	// DropAfterCommit lets the request run (after Delay) and then closes
	// the connection instead of answering: a write is committed, if the
	// account would have committed it, and Commits counts it, but the
	// client never learns its outcome. This is the ambiguous case: a write
	// that timed out or lost its connection may have run. Status and Drop
	// override it. The log's Entry shows Dropped and Committed.
	DropAfterCommit bool
}

// Chaos configures seeded random faults at an endpoint. Each matching
// request draws one number from a generator seeded with Seed and gets at
// most one fault, chosen by the rates in the order listed. The n-th
// matching request at an endpoint thus meets the same fault for the same
// Seed. Rates are probabilities; a rate ≤ 0 is off, and rates that sum
// past 1 leave the later ones less (or no) room.
type Chaos struct {
	// Seed seeds the generator.
	Seed int64

	// Rate429 answers 429 with substatus 3200 and x-ms-retry-after-ms.
	Rate429 float64
	// Rate449 answers 449; it applies to writes only (a read that draws
	// it gets no fault), as in the service.
	Rate449 float64
	// Rate503 answers 503.
	Rate503 float64
	// Rate500 answers 500.
	Rate500 float64
	// RateDrop closes the connection without an answer.
	RateDrop float64
	// RateSlow delays the account's real answer by SlowDelay, as a slow
	// replica or a congested region would; the wait ends early, without an
	// answer, if the client goes away or the account closes.
	RateSlow float64
	// RateDropAfterCommit runs the request and then closes the connection
	// instead of answering (see Fault.DropAfterCommit); it applies to
	// writes only (a read that draws it gets no fault).
	RateDropAfterCommit float64

	// RetryAfter is the x-ms-retry-after-ms hint sent with a 429.
	// Default: 10 ms; negative sends no hint.
	RetryAfter time.Duration

	// SlowDelay is how long RateSlow delays an answer.
	// Default: 100 ms; negative turns RateSlow off.
	SlowDelay time.Duration

	// Ops selects the requests chaos applies to. Default: AllOps.
	Ops Ops

	// Container, Range and PartitionKey limit chaos to some requests, as
	// in Fault. Only those requests draw a number.
	Container    string
	Range        string
	PartitionKey string
}

func (c Chaos) off() bool {
	return c.Rate429 <= 0 && c.Rate449 <= 0 && c.Rate503 <= 0 && c.Rate500 <= 0 && c.RateDrop <= 0 &&
		(c.RateSlow <= 0 || c.SlowDelay < 0) && c.RateDropAfterCommit <= 0
}

// faultState is the fault configuration of one endpoint.
type faultState struct {
	queue      []queuedFault
	chaos      Chaos
	chaosScope scope
	rng        *rand.Rand // nil when chaos is off
}

type queuedFault struct {
	f     Fault
	scope scope
	left  int // answers left; ≤ 0: unlimited
}

// Inject appends f to the fault queue of the endpoint named name (a region
// or Global). A matching request is answered by the first queued fault
// that matches it; scripted faults take precedence over Chaos. Inject
// panics if there is no such endpoint, or if f.Container or
// f.PartitionKey is malformed.
func (a *Account) Inject(name string, f Fault) {
	a.mustEndpoint(name)
	sc, err := newScope("Fault", f.Ops, f.Container, f.Range, f.PartitionKey)
	if err != nil {
		panic(err.Error())
	}
	f.Header = f.Header.Clone()
	a.mu.Lock()
	defer a.mu.Unlock()
	fs := a.faultsOf(name)
	fs.queue = append(fs.queue, queuedFault{f: f, scope: sc, left: f.Count})
}

// Chaos sets (replacing any previous setting) random faults at the
// endpoint named name (a region or Global); a Chaos with no positive rate
// turns them off. Chaos panics if there is no such endpoint, or if
// c.Container or c.PartitionKey is malformed.
func (a *Account) Chaos(name string, c Chaos) {
	a.mustEndpoint(name)
	sc, err := newScope("Chaos", c.Ops, c.Container, c.Range, c.PartitionKey)
	if err != nil {
		panic(err.Error())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	fs := a.faultsOf(name)
	fs.chaos, fs.chaosScope, fs.rng = c, sc, nil
	if !c.off() {
		fs.rng = rand.New(rand.NewPCG(uint64(c.Seed), 0))
	}
}

// ClearFaults removes the scripted faults and the chaos of the endpoint
// named name (a region or Global). It panics if there is no such endpoint.
func (a *Account) ClearFaults(name string) {
	a.mustEndpoint(name)
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.faults, name)
}

func (a *Account) mustEndpoint(name string) {
	if _, ok := a.byName[name]; !ok {
		panic(fmt.Sprintf("cosmostest: no endpoint named %q", name))
	}
}

// faultsOf returns name's fault state, creating it. a.mu must be held.
func (a *Account) faultsOf(name string) *faultState {
	fs := a.faults[name]
	if fs == nil {
		fs = &faultState{}
		a.faults[name] = fs
	}
	return fs
}

// takeFault returns the fault that answers op at the endpoint, consuming
// one use of it, with the partition key range op reaches, or false if no
// fault does.
func (a *Account) takeFault(name string, op operation) (Fault, string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fs := a.faults[name]
	if fs == nil {
		return Fault{}, "", false
	}
	rng := a.store.target(op)
	for i := range fs.queue {
		q := &fs.queue[i]
		if !q.scope.matches(op, rng) {
			continue
		}
		f := q.f
		if q.left > 0 {
			if q.left--; q.left == 0 {
				fs.queue = append(fs.queue[:i], fs.queue[i+1:]...)
			}
		}
		return f, rangeID(rng), true
	}
	if fs.rng == nil || !fs.chaosScope.matches(op, rng) {
		return Fault{}, "", false
	}
	f, ok := fs.chaos.draw(fs.rng.Float64(), op.class == WriteOps)
	return f, rangeID(rng), ok
}

// draw maps a number in [0, 1) to the fault it selects.
func (c Chaos) draw(u float64, write bool) (Fault, bool) {
	hint := c.RetryAfter
	if hint == 0 {
		hint = 10 * time.Millisecond
	}
	throttle := Fault{Status: http.StatusTooManyRequests, SubStatus: 3200}
	if hint > 0 {
		throttle.Header = http.Header{"X-Ms-Retry-After-Ms": {strconv.FormatInt(hint.Milliseconds(), 10)}}
	}
	slow, slowRate := c.SlowDelay, c.RateSlow
	if slow == 0 {
		slow = 100 * time.Millisecond
	}
	if slow < 0 {
		slowRate = 0
	}
	// New bands go last, so that a Seed draws the same faults as before.
	bands := []struct {
		rate       float64
		f          Fault
		writesOnly bool
	}{
		{c.Rate429, throttle, false},
		{c.Rate449, Fault{Status: statusRetryWith}, true},
		{c.Rate503, Fault{Status: http.StatusServiceUnavailable}, false},
		{c.Rate500, Fault{Status: http.StatusInternalServerError}, false},
		{c.RateDrop, Fault{Drop: true}, false},
		{slowRate, Fault{Delay: slow}, false},
		{c.RateDropAfterCommit, Fault{DropAfterCommit: true}, true},
	}
	var edge float64
	for _, b := range bands {
		if b.rate <= 0 {
			continue
		}
		if edge += b.rate; u < edge {
			if b.writesOnly && !write {
				return Fault{}, false
			}
			return b.f, true
		}
	}
	return Fault{}, false
}

// wait blocks for d, or until the client goes away or the account closes.
// It reports whether d elapsed.
func (a *Account) wait(ctx context.Context, d time.Duration) bool {
	a.mu.Lock()
	hook := a.testHookDelay
	a.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-a.done:
	}
	return false
}

// hold blocks until held is closed, the client goes away or the account
// closes. It reports whether held was closed.
func (a *Account) hold(ctx context.Context, held <-chan struct{}) bool {
	select {
	case <-held:
		return true
	case <-ctx.Done():
	case <-a.done:
	}
	return false
}

// faultAnswer is the answer a Fault with a Status gives.
func faultAnswer(f Fault) answer {
	ans := errorAnswer(f.Status, f.SubStatus, "injected fault")
	ans.header = f.Header
	return ans
}
