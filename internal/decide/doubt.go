package decide

import "net/http"

// The tracked-write doubt: its rule is stated in the package documentation.

// noteDoubt records that the call's last attempt, of outcome o, may have
// committed without the call knowing.
func (c *Call) noteDoubt(o Outcome, s Situation) {
	if s.Tracked && (o == Ambiguous || o == unavailable || o == requestTimeout) {
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

// Unable turns d, a decision to retry that cannot be carried out (the
// account a resend after a 403 needs could not be learned), into the
// decision to return the answer resp: no retry, what the answer teaches
// kept, and a read-back where the doubt rule asks for one.
func (c *Call) Unable(d Decision, resp *http.Response) Decision {
	return Decision{Reason: d.Reason, Mark: d.Mark, LookUp: d.LookUp, ReadBack: c.doubt && settles(resp)}
}
