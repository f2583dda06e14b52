package cosmostest

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// offersType is the resource type, and the first path segment, of offers.
const offersType = "offers"

// An offer is the provisioned throughput of a database or container, as
// the service's offer resource shows it.
type offer struct {
	throughput
	n    uint32 // the offer's number: names it and orders the feed
	rid  string // its resource id, which is also its id
	etag string
	ts   int64
}

// newOffer returns a new offer of throughput t.
func (s *store) newOffer(t throughput, now time.Time) *offer {
	s.offers++
	o := &offer{n: s.offers, rid: offerRID(s.offers)}
	s.replaceOffer(o, t, now)
	return o
}

// replaceOffer makes o provision t from now on, under a new etag.
func (s *store) replaceOffer(o *offer, t throughput, now time.Time) {
	s.offerEdits++
	o.throughput = t
	o.ts = now.Unix()
	o.etag = fmt.Sprintf(`"00000000-0000-0000-0002-%012x"`, s.offerEdits)
}

// offerRID returns the resource id of offer n: four characters, as the
// service's are, the first an upper-case letter, so that a client that
// signs with the id as it is, rather than lower-cased, is refused. Ids
// are distinct for the first 26 × 2^18 offers.
func offerRID(n uint32) string {
	b := binary.BigEndian.AppendUint32(nil, (n/26)^0x2c5e3)
	return string(rune('A'+n%26)) + base64.RawURLEncoding.EncodeToString(b[1:])[1:]
}

// classifyOffers classifies a request whose path starts with offers:
// GET /offers (the feed), POST /offers (a query), GET and PUT
// /offers/{rid}.
func classifyOffers(op operation, method string, segs []string, query bool) operation {
	if len(segs) > 2 || slices.Contains(segs, "") {
		return op // opNotFound
	}
	methods := map[string]opKind{http.MethodGet: opOffers}
	if query {
		methods = map[string]opKind{http.MethodPost: opQueryOffers}
	}
	if len(segs) == 2 {
		op.id = segs[1]
		methods = map[string]opKind{http.MethodGet: opReadOffer, http.MethodPut: opReplaceOffer}
	}
	op.kind = opBadMethod
	if k, ok := methods[method]; ok {
		op.kind = k
	}
	return op
}

// offerRequest answers a request for offers. A serverless account has
// none, and answers 400 as the service does.
func (s *store) offerRequest(op operation, h http.Header, body []byte, now time.Time) answer {
	if s.serverless {
		return errorAnswer(http.StatusBadRequest, 0, msgServerlessOffers)
	}
	var match cond
	switch op.kind {
	case opReadOffer, opReplaceOffer:
		o, ok := s.findOffer(op.id)
		switch {
		case !ok:
			return errorAnswer(http.StatusNotFound, 0, "Entity with the specified id does not exist in the system.")
		case op.kind == opReplaceOffer && h.Get("If-Match") != "" && h.Get("If-Match") != o.etag:
			return errorAnswer(precond.status, 0, precond.msg)
		case op.kind == opReplaceOffer:
			t, msg := parseOfferContent(body)
			if msg != "" {
				return errorAnswer(http.StatusBadRequest, 0, msg)
			}
			s.replaceOffer(o.offer, t, now)
		}
		return resourceAnswer(http.StatusOK, encodeJSON(o.document()), o.etag)
	case opQueryOffers:
		var msg string
		if match, msg = parseQueryBody(body); msg != "" {
			return errorAnswer(http.StatusBadRequest, 0, msg)
		}
	}
	docs := []map[string]any{}
	for _, o := range s.allOffers() {
		if doc := o.document(); matches(match, doc) {
			docs = append(docs, doc)
		}
	}
	out := encodeJSON(map[string]any{"_rid": "", "Offers": docs, "_count": len(docs)})
	return answer{status: http.StatusOK, body: out, header: http.Header{"X-Ms-Item-Count": {strconv.Itoa(len(docs))}}}
}

// ownedOffer is an offer with the database or container it provisions.
type ownedOffer struct {
	*offer
	rid, self string // the resource id and self link of what it provisions
}

// find returns the offer whose resource id is rid; false if there is
// none.
func (s *store) findOffer(rid string) (ownedOffer, bool) {
	for _, o := range s.allOffers() {
		if o.offer.rid == rid {
			return o, true
		}
	}
	return ownedOffer{}, false
}

// allOffers returns every offer, oldest first.
func (s *store) allOffers() []ownedOffer {
	var all []ownedOffer
	for _, d := range s.dbs {
		if d.offer != nil {
			rid := base64.StdEncoding.EncodeToString(d.rid)
			all = append(all, ownedOffer{d.offer, rid, "dbs/" + rid + "/"})
		}
	}
	for _, c := range s.colls {
		if c.def != nil && c.def.offer != nil {
			all = append(all, ownedOffer{c.def.offer, c.def.rid, c.def.self})
		}
	}
	slices.SortFunc(all, func(x, y ownedOffer) int { return cmp.Compare(x.n, y.n) })
	return all
}

// document returns the offer's document, as the service serves it.
// Offers hold whole RU/s: the content says ru rounded. An autoscale
// offer's offerThroughput is a tenth of its maximum, the least it scales
// down to, as the service's says at rest.
func (o ownedOffer) document() map[string]any {
	whole := func(ru float64) json.Number {
		return json.Number(strconv.FormatFloat(max(1, math.Round(ru)), 'f', -1, 64))
	}
	content := map[string]any{"offerThroughput": whole(o.ru), "offerIsRUPerMinuteThroughputEnabled": false}
	if o.autoscale {
		content["offerThroughput"] = whole(o.ru / 10)
		content["offerAutopilotSettings"] = map[string]any{"maxThroughput": whole(o.ru)}
	}
	return map[string]any{
		"id": o.offer.rid, "_rid": o.offer.rid, "_self": offersType + "/" + o.offer.rid + "/", "_etag": o.etag, "_ts": json.Number(strconv.FormatInt(o.ts, 10)),
		"offerVersion": "V2", "offerType": "Invalid", "content": content,
		"offerResourceId": o.rid, "resource": o.self,
	}
}

// parseOfferContent reads the throughput a replaced offer provisions from
// its content: offerAutopilotSettings.maxThroughput for autoscale, else
// offerThroughput. On failure msg says why.
func parseOfferContent(body []byte) (t throughput, msg string) {
	var o struct {
		Content *struct {
			Throughput *float64 `json:"offerThroughput"`
			Autoscale  *struct {
				Max float64 `json:"maxThroughput"`
			} `json:"offerAutopilotSettings"`
		} `json:"content"`
	}
	const bad = `An offer's content must hold a positive offerThroughput or offerAutopilotSettings {"maxThroughput": M}.`
	if err := json.Unmarshal(body, &o); err != nil || o.Content == nil {
		return throughput{}, bad
	}
	switch c := o.Content; {
	case c.Autoscale != nil && c.Autoscale.Max > 0:
		return throughput{ru: c.Autoscale.Max, autoscale: true}, ""
	case c.Autoscale == nil && c.Throughput != nil && *c.Throughput > 0:
		return throughput{ru: *c.Throughput}, ""
	}
	return throughput{}, bad
}

// offerLink returns the resource link that signs a request for one offer
// at path: the offer's resource id, lower-cased, as the service and
// azcosmos sign it; false for any other path.
func offerLink(path string) (string, bool) {
	rid, ok := strings.CutPrefix(strings.Trim(path, "/"), offersType+"/")
	if !ok || rid == "" || strings.Contains(rid, "/") {
		return "", false
	}
	return strings.ToLower(rid), true
}
