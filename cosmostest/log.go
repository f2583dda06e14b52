package cosmostest

import (
	"slices"
	"time"
)

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
	// a Drop fault, or a Delay cut short by the client or by Close.
	Dropped bool
	// Write reports that the request asked for a write (anything but a
	// GET, a HEAD or a query).
	Write bool
	// Tentative reports that the request carried
	// x-ms-cosmos-allow-tentative-writes: true.
	Tentative bool
}

// record appends e to the log.
func (a *Account) record(e Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, e)
}

// Log returns a copy of the request log, in the order the answers were
// decided. An entry is in the log before its answer leaves the account,
// so a client that has its answer also finds the request here.
func (a *Account) Log() []Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// ResetLog empties the request log. It does not reset Commits.
func (a *Account) ResetLog() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = nil
}

// Requests returns how many logged requests the endpoint named name (a
// region or Global) received; name "" counts every endpoint.
func (a *Account) Requests(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.log {
		if name == "" || e.Region == name {
			n++
		}
	}
	return n
}
