package throttle

import "time"

// A pacer spaces reservations of request units at a rate, by virtual
// scheduling (GCRA): tat, the theoretical arrival time, is when the
// reservations made so far are paid for at the rate; a reservation may be
// sent up to tol before it. A charge above the estimate pushes tat further
// (debt the next calls wait out); one below pulls it back.
type pacer struct {
	rate    float64 // RU per second; > 0
	tat     int64   // unix ns
	tol     int64   // ns of burst tolerance
	waiting int     // calls waiting for their turn
}

// reserve reserves cost RU for an attempt that may not go before
// notBefore, at now, and returns when it may be sent.
func (p *pacer) reserve(now, notBefore int64, cost float64) (sendAt int64) {
	sendAt = max(now, notBefore, p.tat-p.tol)
	p.tat = max(p.tat, sendAt) + p.span(cost)
	return sendAt
}

// settle moves tat by the difference between an attempt's charge and what
// it reserved: debt when it cost more, credit back when less.
func (p *pacer) settle(reserved, charge float64, now int64) {
	if d := charge - reserved; d > 0 {
		p.tat += p.span(d)
	} else if d < 0 {
		// Credit never moves tat before now: idle time is not banked.
		p.tat = max(p.tat-p.span(-d), min(p.tat, now))
	}
}

// span is how long cost RU take at the pacer's rate.
func (p *pacer) span(cost float64) int64 {
	if cost <= 0 {
		return 0
	}
	s := cost / p.rate * float64(time.Second)
	if s > float64(maxSpan) {
		return int64(maxSpan)
	}
	return int64(s)
}

// debt is how many RU are reserved beyond what the rate has paid for at now.
func (p *pacer) debt(now int64) float64 {
	if p.tat <= now {
		return 0
	}
	return float64(p.tat-now) / float64(time.Second) * p.rate
}

// maxSpan bounds what one charge can push a pacer by, so that a hostile
// charge header cannot hold a range for years: debt beyond an hour of the
// rate is forgiven.
const maxSpan = time.Hour
