package decide

import "net/http"

// The tracked-write doubt: its rule is stated in the package documentation.

// noteDoubt records that the call's last attempt, of outcome o, may have
// committed without the call knowing.
func (c *Call) noteDoubt(o Outcome, s Situation) {
	if s.Tracked && (o == Ambiguous || o == Unavailable || o == RequestTimeout) {
		c.doubt = true
	}
}

// readBack reports whether decision d, made after an answer resp, must read
// the tracked item back first.
func (c *Call) readBack(d Decision, resp *http.Response, s Situation) bool {
	switch {
	case !c.doubt:
		return false
	case d.Retry:
		return !s.Creates
	}
	return settles(resp)
}

// settles reports whether a read-back can settle an answer that ends a
// call in doubt.
func settles(resp *http.Response) bool {
	if resp == nil {
		return true
	}
	switch resp.StatusCode {
	case http.StatusConflict, http.StatusPreconditionFailed, http.StatusServiceUnavailable, http.StatusRequestTimeout:
		return true
	}
	return false
}
