package cosmostest

import (
	"slices"
	"time"
)

// DefaultLogLimit is how many entries the request log keeps when
// Options.LogLimit is 0: some 12 to 18 MB (an Entry is 120 bytes plus its
// path).
const DefaultLogLimit = 100_000

// An Entry records one request an endpoint received.
type Entry struct {
	// Region is the endpoint's name: a region, or Global.
	Region string
	// Method and Path are the request's method and URL path.
	Method, Path string
	// Time is when the request arrived, by the account's clock.
	Time time.Time
	// Status is the status code answered; 0 if the request was dropped.
	Status int
	// SubStatus is the x-ms-substatus answered, 0 if none.
	SubStatus int
	// Dropped reports that the connection was closed without an answer:
	// a Drop or DropAfterCommit fault, or a Delay cut short by the client
	// or by Close.
	Dropped bool
	// Write reports that the request asked for a write (anything but a
	// GET, a HEAD or a query).
	Write bool
	// Tentative reports that the request carried
	// x-ms-cosmos-allow-tentative-writes: true.
	Tentative bool
	// LowPriority reports that the request carried
	// x-ms-cosmos-priority-level: Low.
	LowPriority bool
	// Committed reports that the request committed at least one document
	// write to the store, whether or not its client got the answer.
	Committed bool
	// Range is the id of the partition key range the request reached (see
	// "Partition key ranges" in the package documentation), which its
	// answer names; "" if none.
	Range string
	// Charge is the request units the request took from provisioned
	// throughput (see "Throughput" in the package documentation): the
	// charge it answered in x-ms-request-charge, which a read took from
	// the budget of Range in Region (the write region's for Global) and a
	// write from the budgets of Range in every region. A cross-partition
	// query or read feed page, whose Range is "", took each range's part
	// from that range's budget. Charge is 0 for a request that no budget
	// governs (metadata, a container without throughput, a failure before
	// a range was known), for one refused for throughput, and for one a
	// fault answered or dropped before it ran; x-ms-request-charge says
	// what those cost.
	Charge float64
}

// requestLog keeps the latest entries, at most limit of them (no bound
// when limit ≤ 0), in a ring.
type requestLog struct {
	limit   int
	entries []Entry
	start   int // index of the oldest entry once the ring is full
	evicted int
}

func (l *requestLog) add(e Entry) {
	if l.limit <= 0 || len(l.entries) < l.limit {
		l.entries = append(l.entries, e)
		return
	}
	l.entries[l.start] = e
	l.start = (l.start + 1) % l.limit
	l.evicted++
}

// all returns a copy of the entries, oldest first.
func (l *requestLog) all() []Entry {
	return append(slices.Clone(l.entries[l.start:]), l.entries[:l.start]...)
}

// arrive counts a request the account has started to answer (InFlight).
func (a *Account) arrive() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight++
}

// record appends e to the log and ends the request it describes in the
// same step, so that a request that arrived is always in flight or logged.
func (a *Account) record(e Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log.add(e)
	a.inFlight--
}

// InFlight returns how many requests the account's endpoints are answering
// now: requests they have read and not yet logged. A request whose client
// goes away during a Delay is logged, Dropped, once its endpoint notices,
// which may be after the client's call returned (a hedged read's losing
// arm, a cancelled call); a test that reads or resets the log after such
// calls first waits for InFlight to be 0. A request an endpoint has not yet
// read from its connection is not counted.
func (a *Account) InFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inFlight
}

// Log returns a copy of the request log, in the order the answers were
// decided. An entry is in the log before its answer leaves the account,
// so a client that has its answer also finds the request here. The log
// keeps the latest Options.LogLimit entries; LogEvicted counts the older
// ones it let go.
func (a *Account) Log() []Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.all()
}

// LogEvicted returns how many entries, the oldest first, the log has let
// go since the account started or the last ResetLog, to keep within
// Options.LogLimit.
func (a *Account) LogEvicted() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.log.evicted
}

// ResetLog empties the request log and zeroes LogEvicted. It does not
// reset Commits.
func (a *Account) ResetLog() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = requestLog{limit: a.log.limit}
}

// Requests returns how many logged requests the endpoint named name (a
// region or Global) received; name "" counts every endpoint. Entries the
// log has let go (see LogEvicted) are not counted.
func (a *Account) Requests(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.log.entries {
		if name == "" || e.Region == name {
			n++
		}
	}
	return n
}
