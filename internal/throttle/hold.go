package throttle

import (
	"math"
	"math/rand/v2"
	"time"
)

// Key names one partition key range of a container in one region.
type Key struct {
	Container string // "dbs/d/colls/c"
	Range     string // the partition key range id
	Host      string // the region's endpoint host
}

// How a held range learns the rate it can serve.
const (
	// measureWindow is the least time over which what a range served is
	// taken for its rate; a throttle sooner than that after the last one
	// only slows the lane (by slowDown).
	measureWindow = 250 * time.Millisecond
	// underMeasured is the share of the measured rate a lane paces at: a
	// little under what the range served, so that the range keeps a
	// margin and the service seldom throttles again.
	underMeasured = 0.95
	slowDown      = 0.85
	// growth is how fast a lane's rate rises while the range is not
	// throttled (a share of the rate per second), so that a range whose
	// budget grew (or whose other clients left) is used again.
	growth = 0.05
	// firstGuess is the longest a first guess assumes one call takes of
	// the range's budget, and doubling how fast the guess grows.
	firstGuess   = 50 * time.Millisecond
	doubling     = 250 * time.Millisecond
	maxDoublings = 8 // a guess never grows past 256 times itself
	// heldTolerance is the burst a held lane lets through at once.
	heldTolerance = 20 * time.Millisecond
	// quietForget is how long a range is remembered after its last throttle.
	quietForget = 30 * time.Second
)

// held is a range the service throttled in a region: one lane per
// priority, since a Low call's throttle must not hold High calls back.
type held struct {
	lanes [2]lane        // by laneOf
	last  int64          // unix ns of the last throttle of either lane
	est   [kinds]float64 // the last charge of a success of each kind: what an attempt reserves
}

// lane is what one priority of a held range knows.
type lane struct {
	until   int64   // unix ns: calls of this priority wait until then
	rate    float64 // RU/s learned; 0 until a second throttle measures it
	anchor  int64   // when rate was set: it grows from there
	window  int64   // start of the measurement window (a throttle); 0: none
	owed    int64   // ns: the hint of the throttle that started the window
	served  float64 // RU of the successes since window
	pace    pacer   // at the rate (grown), once learned
	started bool    // the lane has been throttled
	guessed bool    // rate is the first guess, growing fast until measured
}

// laneOf returns the lane of priority low.
func laneOf(low bool) int {
	if low {
		return 1
	}
	return 0
}

// throttled records a 429/3200 of the range at now with the hint, for a
// call of priority low (true) or high that cost about cost RU. A High
// throttle holds Low calls too.
//
// The first throttle starts the lane at a rate guessed from the hint (the
// call's cost once per hint: the service refills what was overspent in
// that time, so this errs high); each later throttle within a measuring
// window slows it, and one after a full window sets it a little under what
// the range served meanwhile.
func (h *held) throttled(low bool, now int64, hint time.Duration, cost float64) {
	h.last = now
	until := now + int64(max(hint, time.Millisecond))
	l := &h.lanes[laneOf(low)]
	if !low {
		h.lanes[1].until = max(h.lanes[1].until, until)
	}
	event := now >= l.until // a throttle after the hold ended; others are the same event
	l.until = max(l.until, until)
	if !event && l.started {
		return
	}
	l.started = true
	switch {
	case l.window == 0:
		// A first guess, low on purpose (one call per hint, or per
		// firstGuess), doubled every doubling until a throttle a window
		// later measures the rate.
		l.window, l.owed, l.guessed = now, int64(hint), true
		l.rate = max(cost, 1) / max(hint, firstGuess).Seconds()
	case now-l.window >= int64(measureWindow):
		// Both ends of the window are throttles, where the range's budget
		// was spent, each overspent by its hint's worth: what the range
		// served between them is its rate times the window, less the first
		// overspend, plus the second.
		span := time.Duration(now - l.window - l.owed + int64(hint)).Seconds()
		if l.served > 0 && span > 0 {
			l.rate, l.guessed = l.served/span*underMeasured, false
		} else {
			l.rate *= slowDown
		}
		l.window, l.owed, l.served = now, int64(hint), 0
	case l.guessed:
		// Sooner than a window after the first throttle: the guess grew
		// too fast. It grows again from a little less, until a throttle
		// a window after the first measures the rate.
		l.rate = l.rateAt(now) * slowDown
	default:
		// Sooner than a window after the last measure: calls sent before
		// it took effect; the measure stands.
		l.until = max(l.until, until)
		return
	}
	l.anchor = now
	if l.rate > 0 {
		l.pace.rate, l.pace.tol = l.rate, int64(heldTolerance)
		l.pace.tat = max(l.pace.tat, l.until)
	}
}

// rateAt is the lane's pacing rate at now: the learned rate, grown since
// it was set.
func (l *lane) rateAt(now int64) float64 {
	if l.guessed {
		return l.rate * math.Exp2(min(float64(now-l.anchor)/float64(doubling), maxDoublings))
	}
	return l.rate * (1 + growth*float64(now-l.anchor)/float64(time.Second))
}

// reserve returns when a call of priority low may be sent to the range,
// having reserved cost RU of its lane's pace; hint is the horizon's
// length, to spread the calls released before the rate is learned.
func (h *held) reserve(low bool, now int64, cost float64) (sendAt int64, paced bool) {
	l := &h.lanes[laneOf(low)]
	notBefore := l.until
	if low {
		notBefore = max(notBefore, h.lanes[0].until)
	}
	if l.rate <= 0 {
		if notBefore <= now {
			return now, false
		}
		// Not learned yet: spread the calls released at the horizon over
		// a tenth of a second or the hold's length, whichever is shorter,
		// rather than let them all go at once.
		spread := min(notBefore-now, int64(100*time.Millisecond))
		return notBefore + rand.Int64N(spread+1), false
	}
	l.pace.rate = l.rateAt(now)
	return l.pace.reserve(now, notBefore, cost), true
}

// served counts a success of the range for priority low.
func (h *held) served(low bool, charge float64) {
	l := &h.lanes[laneOf(low)]
	if l.window != 0 {
		l.served += charge
	}
}
