// Package decide owns the chain's decisions, and only them: no I/O, no
// waiting. It classifies each attempt's answer (an Outcome), keeps the
// retry budget a transport's calls share, and tells each call whether to
// try again, when and where, what the answer teaches the account, and when
// a tracked write must read its item back. It also gives the breaker its
// settings and verdicts, and hedged reads their delays, budget and final
// answers. The transport and the account's route carry the decisions out.
//
// One Policy per transport, one Call per call, one Decide per attempt:
//
//	p := decide.New(opts, nil, nil) // opts: policy.RetryOptions
//	c := p.Call()
//	for {
//		resp, err := send(attempt)
//		o := p.Judge(resp, err) // classify, feed the budget
//		d := c.Decide(o, resp, decide.Situation{Write: write, Replayable: true /* , ... */})
//		// carry out d: mark, look up, read back, then return or wait d.Wait and move as d.Route says
//	}
//
// # The rules
//
// This table is the chain's one statement of its retry rules. Each answer
// is named with its Outcome as metrics and spans name it. Defaults of
// policy.RetryOptions in parentheses; a negative option turns its retries
// off. "Next region" is the next preferred read region for a read; for a
// write, the next write region of a multi-write account, else the write
// endpoint again (after a look-up may have moved it).
//
//	answer (outcome)        reads                                 writes
//
//	2xx, 304 (ok)           return                                return
//
//	400, 401, 404, 405,     return                                return
//	409, 412, 413, other
//	403, other statuses,
//	refused before any
//	connection (final)
//
//	429 (throttled)         same endpoint after the hint plus up  same
//	                        to 5 % jitter; ≤ MaxThrottleRetries
//	                        (9), ≤ MaxThrottleWait (30 s) in all;
//	                        not budgeted
//
//	449 (retry_with)        same endpoint after backoff from      same
//	                        RetryWithInitial (10 ms) ×2 to
//	                        RetryWithMax (1 s), never below the
//	                        floor; ≤ MaxRetryWithWait (30 s) in
//	                        all; not budgeted
//
//	503 (unavailable)       next region: the call's first         after backoff, the first too, never
//	                        unavailability retry at once, later   below the floor: the next write
//	                        ones after backoff from               region of a multi-write account
//	                        UnavailableInitial (100 ms) ×2 to     (marks it), the range's next region
//	                        UnavailableMax (2 s), never below the under per-partition failover
//	                        floor; budgeted; marks the region     (Situation.PartitionFailover), else
//	                        (not when it names its range:         the same write endpoint; budgeted
//	                        Situation.Ranged)
//
//	500 (server_error)      once, at once, to another region      return
//	                        only; budgeted
//
//	408 (request_timeout)   once, at once, next region; budgeted  return (it may have run); tracked:
//	                                                              as a read, in doubt
//
//	a transport error       next region, the first at once, later next region, the first at once,
//	before the request left ones after backoff; budgeted; marks   later ones after backoff; budgeted;
//	(never_sent)            the region                            marks the endpoint; a single write
//	                                                              region also looks the account up
//
//	a transport error after as never_sent, without the mark       return unknown: no write runs
//	it may have left                                              twice; tracked: as a read, in
//	(ambiguous)                                                   doubt
//
//	403.3 (write_forbidden) return; marks the endpoint, looks the refresh: marks the endpoint, forces
//	                        account up                            a look-up and resends where the
//	                                                              account then says, the first at
//	                                                              once, later ones every
//	                                                              FailoverInterval (1 s) until
//	                                                              MaxFailoverWait (60 s) after the
//	                                                              call's first 403.3 or 403.1008; not
//	                                                              budgeted; for a call that is not the
//	                                                              account's: return, marked and looked
//	                                                              up. Under per-partition failover
//	                                                              (Situation.PartitionFailover), first
//	                                                              the range's next region at once,
//	                                                              each region the call has not tried,
//	                                                              marking nothing and looking nothing
//	                                                              up; not budgeted
//
//	403.1008                as 403.3 writes                       as 403.3 writes
//	(region_not_found)
//
//	404.1002                at once on the write region (one the  return
//	(session_not_available) call excludes: the next region it
//	                        may use), ≤ MaxSessionRetries (2);
//	                        not budgeted; an arm of a hedged read
//	                        makes it too
//
//	the caller's context    return                                return; unknown if the attempt
//	ended (canceled)                                              may have left (Situation.Sent)
//
//	an open circuit refused at once, to another region only,      multi-write, and a range's write
//	the attempt             ≤ MaxUnavailableRetries of its own;   under per-partition failover: as
//	(circuit_open)          not budgeted (nothing was sent);      reads; single write region: return,
//	                        marks the endpoint                    marks the endpoint and looks the
//	                                                              account up
//
// Retries after 503, 500, 408, never_sent and ambiguous share one cap,
// MaxUnavailableRetries (3). A backoff wait is drawn from (interval/2,
// interval], so that the maxima hold. "Marks" means the endpoint is
// marked unavailable (for writes if the call is a write, else for reads)
// whether or not the call goes on, so that other calls avoid it until the
// mark expires; "looks the account up" means it is read again in the
// background, since this call will not resend to learn where the write
// region went. A call that resends after a 403 waits for that look-up
// itself.
//
// Whatever the table says, no retry is made when the body cannot be sent
// again, when the call is held to one region (an arm of a hedged read)
// and the retry would move (but for a session retry), when it must go to another region and there
// is none left, when it needs the account (403.3, 403.1008) and the call
// is not the account's, when it is budgeted and the budget refuses, or
// when its wait would end after the call's deadline.
//
// # The budget
//
// Unavailability (503, 500, 408, transport errors) draws on a budget the
// transport's calls share, in the manner of gRPC retry throttling with
// Linkerd's floor of retries per second: a bucket of BudgetOptions.Tokens
// (10) that loses one token per such attempt, gains Refill (0.5) per
// attempt the service answered with OK or Final and PerSecond (10) per
// second of time, never above Tokens; a budgeted retry goes only while the
// bucket holds more than half its capacity. Other answers, and errors that
// are nobody's fault (the caller's cancellation, a request refused before
// it left), leave it alone. A burst of failures is retried, and so is a
// quiet client's brownout: a caller reading every 100 ms whose every read
// meets 503, 503, 200 gets all its 200s. In a sustained outage time pays
// for first attempts before retries: a transport sending more than
// PerSecond calls a second costs about one attempt per call, one sending
// fewer about PerSecond less its rate in retries a second (up to every
// call's retries). Each transport has its own bucket, so N transports in
// an outage add at most about N × PerSecond retries a second in all, past
// their buckets' first Tokens.
//
// # The hints
//
// A 429 waits the server's hint: x-ms-retry-after-ms (milliseconds, an
// integer or a decimal) when present and well formed, else Retry-After
// (delta-seconds or an HTTP date, measured from now), else
// DefaultRetryAfter (5 s). A negative hint or a past date is 0; a
// malformed header counts as absent; a hint is clamped by MaxRetryAfter
// (30 s). A hint that does not fit in what is left of MaxThrottleWait
// returns the 429; the jitter is trimmed so the total never passes it.
//
// The floor of a 449 or 503 wait is its x-ms-retry-after-ms alone (not
// Retry-After), parsed and clamped the same way. It raises a wait, and
// delays even a retry that would go at once, but never makes a retry the
// rules would not make: with the unavailability backoff off, a retry that
// would back off is still not made.
//
// # The write doubt
//
// A write is in doubt after an attempt that may have committed without the
// call knowing: an ambiguous failure or a 408. A 503 is not a doubt: the
// service did not process the request. A write that nothing can settle
// ends with Decision.Unknown (the transport's ErrOutcomeUnknown) instead
// of its last answer: an untracked write after an ambiguous failure, or
// after its caller's context ended once its request may have left.
//
// A tracked write (Tracking.Tracked, see policy.RetryOptions.TrackWrites)
// carries an id of the call's in its item, so that reading the item back
// tells whether an attempt committed; it is then resent as a read would be
// (in a multi-write account, or under per-partition failover but after a
// 403.3, only where it met the doubt). From the doubt
// on, for the rest of the call, each decision says whether to read the
// item back first (Decision.ReadBack):
//
//   - before a resend, unless the service can refuse a second run: a create
//     (Tracking.Creates), refused with 409 if an earlier attempt committed,
//     or a write with the caller's If-Match (Tracking.IfMatch), refused
//     with 412. What the read-back found decides the resend (Call.Settle):
//     the call's id ends the call with its success; an upsert whose item is
//     absent is resent as a create; an item still at the write's base
//     version (FoundBase: the etag its body brought) is resent guarded by
//     that etag; anything else is Unknown, since another
//     version cannot tell "ours never ran" from "ours ran and was
//     overwritten", and a 404 is only a hint;
//   - before the call ends with anything but a success: the call's id ends
//     it with its success, anything else with Unknown.
//
// A delete in a call that tracks its writes (Tracking.Deletes) is resent
// after a doubt, and a 404 then ends it as done (Decision.Gone); any other
// end but a success is Unknown.
//
// A read-back is a call of its own (Situation.Stay): every retry the rules
// make goes to the same endpoint, none is budgeted, and an open circuit
// ends it.
//
// Every answer goes through Decide, OK and Final included, so that a call
// in doubt can settle them; a call in no doubt pays nothing for that.
package decide
