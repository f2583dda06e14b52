package cosmostest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers with which a request that creates a database or container
// provisions throughput.
const (
	headerOfferThroughput = "X-Ms-Offer-Throughput"
	headerOfferAutoscale  = "X-Ms-Cosmos-Offer-Autopilot-Settings"
)

// Why the service refuses throughput in a serverless account.
const (
	msgServerlessContainer = "Setting offer throughput or autopilot on container is not supported for serverless accounts."
	msgServerlessDatabase  = "Shared throughput database creation is not supported for serverless accounts."
	msgServerlessOffers    = "Reading or replacing offers is not supported for serverless accounts."
)

// throughput is what an offer provisions: ru RU/s of manual throughput,
// or an autoscale maximum of ru RU/s.
type throughput struct {
	ru        float64
	autoscale bool
}

// parseThroughput reads the throughput a request that creates a database
// or container provisions: x-ms-offer-throughput, manual RU/s, or
// x-ms-cosmos-offer-autopilot-settings, {"maxThroughput": M}. It returns
// nil if the request provisions none, and msg says why the headers are
// unusable.
func parseThroughput(h http.Header) (t *throughput, msg string) {
	manual, auto := h.Get(headerOfferThroughput), h.Get(headerOfferAutoscale)
	switch {
	case manual != "" && auto != "":
		return nil, "x-ms-offer-throughput and x-ms-cosmos-offer-autopilot-settings cannot be given together."
	case manual != "":
		n, err := strconv.Atoi(strings.TrimSpace(manual))
		if err != nil || n <= 0 {
			return nil, "x-ms-offer-throughput must be a positive whole number of RU/s."
		}
		return &throughput{ru: float64(n)}, ""
	case auto != "":
		var s struct {
			MaxThroughput int `json:"maxThroughput"`
		}
		if err := json.Unmarshal([]byte(auto), &s); err != nil || s.MaxThroughput <= 0 {
			return nil, `x-ms-cosmos-offer-autopilot-settings must be {"maxThroughput": M}, M a positive whole number of RU/s.`
		}
		return &throughput{ru: float64(s.MaxThroughput), autoscale: true}, ""
	}
	return nil, ""
}

// provision gives a new database or container the throughput its create
// request asks for, as an offer, or returns why it may not: msg is set,
// for the answer 400.
func (s *store) provision(h http.Header, serverlessMsg string, now time.Time) (o *offer, msg string) {
	t, msg := parseThroughput(h)
	switch {
	case msg != "":
		return nil, msg
	case t == nil:
		return nil, ""
	case s.serverless:
		return nil, serverlessMsg
	}
	return s.newOffer(*t, now), ""
}

// rate returns the RU/s that container c, at ck, runs at: its own
// offer's; else, if its database has an offer, an equal share of it
// among the database's containers that have none of their own; else 0,
// no limit. An autoscale offer runs at its maximum.
func (s *store) rate(ck collKey, c *container) float64 {
	if c.offer != nil {
		return c.offer.ru
	}
	d := s.dbs[ck.db]
	if d == nil || d.offer == nil {
		return 0
	}
	sharing := 0
	for k, other := range s.colls {
		if k.db == ck.db && other.def != nil && other.def.offer == nil {
			sharing++
		}
	}
	return d.offer.ru / float64(sharing)
}

// SetThroughput provisions container coll of database db with ru RU/s of
// manual throughput, as replacing its offer does: the container gets an
// offer if it had none (and stops sharing its database's throughput), an
// autoscale offer becomes manual, and its ranges' budgets refill at the
// new rate from now on, what they hold capped at the new capacity. ru 0
// removes the container's own throughput and its offer: it then shares
// its database's throughput, if the database has some, and is otherwise
// unlimited. SetThroughput fails if there is no such container, if ru is
// negative or not finite, or if the account is serverless.
func (a *Account) SetThroughput(db, coll string, ru float64) error {
	if ru < 0 || math.IsInf(ru, 0) || math.IsNaN(ru) {
		return fmt.Errorf("cosmostest: setting the throughput of %s/%s: %v RU/s is negative or not finite", db, coll, ru)
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.store.container(collKey{db, coll})
	switch {
	case a.store.serverless:
		return fmt.Errorf("cosmostest: setting the throughput of %s/%s: the account is serverless", db, coll)
	case c == nil:
		return fmt.Errorf("cosmostest: setting the throughput of %s/%s: no such container", db, coll)
	case ru == 0:
		c.def.offer = nil
	case c.def.offer == nil:
		c.def.offer = a.store.newOffer(throughput{ru: ru}, now)
	default:
		a.store.replaceOffer(c.def.offer, throughput{ru: ru}, now)
	}
	return nil
}
