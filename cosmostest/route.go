package cosmostest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// opKind is what a request asks the account to do.
type opKind int

const (
	opNotFound opKind = iota
	opBadMethod
	opAccount
	opCreateDatabase
	opReadDatabase
	opDeleteDatabase
	opCreateContainer
	opReadContainer
	opDeleteContainer
	opPKRanges
	opOffers       // GET /offers
	opQueryOffers  // POST /offers, a query
	opReadOffer    // GET /offers/{rid}
	opReplaceOffer // PUT /offers/{rid}
	// The operations from opFeed on address a collection's items (inItems).
	opFeed
	opQuery
	opBatch
	opCreate
	opUpsert
	opRead
	opReplace
	opPatch
	opDelete
)

// operation is a request, classified, with the partition it names.
type operation struct {
	kind         opKind
	class        Ops // ReadOps, WriteOps or AccountOps
	db, coll, id string
	tentative    bool // x-ms-cosmos-allow-tentative-writes: true
	low          bool // x-ms-cosmos-priority-level: Low

	key     requestKey // x-ms-documentdb-partitionkey
	keyMsg  string     // why that header is unusable, or ""
	epk     string     // the key's effective partition key, if given
	rangeID string     // x-ms-documentdb-partitionkeyrangeid, or ""
}

// classify maps a request to its operation by method, path and headers.
func classify(r *http.Request) operation {
	h := r.Header
	op := operation{class: ReadOps, tentative: isTrue(h, headerTentative), rangeID: h.Get(headerRangeID),
		low: strings.EqualFold(strings.TrimSpace(h.Get(headerPriority)), "Low")}
	op.key.pk, op.key.given, op.keyMsg = parsePartitionKey(h.Get(headerPartitionKey))
	if op.key.given {
		op.epk = effectivePartitionKey(op.key.pk.value)
	}
	query := isTrue(h, "X-Ms-Documentdb-Isquery") || strings.HasPrefix(h.Get("Content-Type"), "application/query+json")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(r.Method == http.MethodPost && query) {
		op.class = WriteOps
	}
	p := strings.Trim(r.URL.Path, "/")
	if p == "" {
		op.kind = opBadMethod
		if r.Method == http.MethodGet {
			op.kind, op.class = opAccount, AccountOps
		}
		return op
	}
	segs := strings.Split(p, "/")
	if segs[0] == offersType {
		return classifyOffers(op, r.Method, segs, query)
	}
	if !wellFormed(segs) {
		return op // opNotFound
	}
	if len(segs) >= 2 {
		op.db = segs[1]
	}
	if len(segs) >= 4 {
		op.coll = segs[3]
	}
	if len(segs) == 6 {
		op.id = segs[5]
	}
	var methods map[string]opKind
	switch len(segs) {
	case 1: // queries of databases and containers are not served: 405
		if !query {
			methods = map[string]opKind{http.MethodPost: opCreateDatabase}
		}
	case 2:
		methods = map[string]opKind{http.MethodGet: opReadDatabase, http.MethodDelete: opDeleteDatabase}
	case 3:
		if !query {
			methods = map[string]opKind{http.MethodPost: opCreateContainer}
		}
	case 4:
		methods = map[string]opKind{http.MethodGet: opReadContainer, http.MethodDelete: opDeleteContainer}
	case 5:
		post := opCreate
		switch {
		case query:
			post = opQuery
		case isTrue(h, headerIsBatch):
			post = opBatch
		case isTrue(h, "X-Ms-Documentdb-Is-Upsert"):
			post = opUpsert
		}
		methods = map[string]opKind{http.MethodGet: opFeed, http.MethodPost: post}
		if segs[4] == "pkranges" {
			methods = map[string]opKind{http.MethodGet: opPKRanges}
		}
	case 6:
		methods = map[string]opKind{http.MethodGet: opRead, http.MethodPut: opReplace,
			http.MethodPatch: opPatch, http.MethodDelete: opDelete}
	}
	op.kind = opBadMethod
	if k, ok := methods[r.Method]; ok {
		op.kind = k
	}
	return op
}

// wellFormed reports whether segs is a path the account serves:
// dbs[/{db}[/colls[/{coll}[/docs[/{id}]|/pkranges]]]], names non-empty.
func wellFormed(segs []string) bool {
	fixed := map[int][]string{0: {"dbs"}, 2: {"colls"}, 4: {"docs", "pkranges"}}
	if len(segs) > 6 || (len(segs) == 6 && segs[4] != "docs") {
		return false
	}
	for i, s := range segs {
		if words, ok := fixed[i]; (ok && !slices.Contains(words, s)) || s == "" {
			return false
		}
	}
	return true
}

func isTrue(h http.Header, name string) bool { return strings.EqualFold(h.Get(name), "true") }

// inItems reports whether op reads or writes a collection's items: the
// operations that reach a partition key range.
func (op operation) inItems() bool { return op.kind >= opFeed }

// target returns the partition key range op reaches in a created
// container: the one its x-ms-documentdb-partitionkeyrangeid names (nil if
// that range does not exist now), else the one its partition key hashes
// to. It returns nil for requests that name neither (a cross-partition
// query, a read feed, a create that leaves the key to the document), for
// those to a collection without a partition key, and for those that do
// not address items. The caller holds the account's lock.
func (s *store) target(op operation) *pkRange {
	if !op.inItems() {
		return nil
	}
	c := s.container(collKey{op.db, op.coll})
	switch {
	case c == nil:
		return nil
	case op.rangeID != "":
		return c.def.ranges.byID(op.rangeID)
	case op.key.given:
		return c.def.ranges.holding(op.epk)
	}
	return nil
}

// rangeGone is the answer to a request that names a partition key range
// the container does not have (any more).
func rangeGone() answer {
	return errorAnswer(http.StatusGone, subRangeGone, "The partition key range does not exist (any more): read the partition key ranges again.")
}

// do runs an operation against the store. The document writes of a
// request for items are staged in the txn it returns, which the caller
// commits once the request is admitted (see Account.spend); other
// requests return a nil txn, their changes made. rng is the range the
// operation reaches (see target). The caller holds the account's lock.
func (s *store) do(op operation, rng *pkRange, h http.Header, body []byte, now time.Time) (answer, *txn) {
	ck := collKey{op.db, op.coll}
	switch op.kind {
	case opCreateDatabase:
		return s.createDatabase(h, body, now), nil
	case opReadDatabase:
		return s.readDatabase(op.db), nil
	case opDeleteDatabase:
		return s.deleteDatabase(op.db), nil
	case opCreateContainer:
		return s.createContainer(op.db, h, body, now), nil
	case opReadContainer:
		return s.readContainer(ck), nil
	case opDeleteContainer:
		return s.deleteContainer(ck), nil
	case opPKRanges:
		if c := s.container(ck); c != nil {
			return c.def.ranges.feed(c.def, h), nil
		}
		return containerNotFound(), nil
	case opOffers, opQueryOffers, opReadOffer, opReplaceOffer:
		return s.offerRequest(op, h, body, now), nil
	case opFeed, opQuery:
		return s.list(ck, op, rng, h, body), nil
	}
	c, gone := s.open(ck)
	if gone != nil {
		return *gone, nil
	}
	if op.keyMsg != "" {
		return errorAnswer(http.StatusBadRequest, 0, op.keyMsg), nil
	}
	t := &txn{s: s, ck: ck, c: c, now: now}
	if t.def() != nil && op.rangeID != "" && rng == nil {
		return rangeGone(), nil
	}
	var ans answer
	if op.kind == opBatch {
		ans = t.batch(h, op.key, body)
	} else {
		r := t.single(op, op.key, body, h.Get("If-Match"))
		ans = itemAnswer(r)
		ans.charge = itemCharge(op.class == WriteOps, r)
		if rng == nil && r.doc != nil && t.def() != nil { // a create or upsert that left the key to the document
			rng = t.def().ranges.holding(r.doc.epk)
		}
	}
	ans.rangeID = rangeID(rng)
	return ans, t
}

// single runs a request's only item operation.
func (t *txn) single(op operation, rk requestKey, body []byte, ifMatch string) opResult {
	switch op.kind {
	case opRead:
		return t.read(rk, op.id)
	case opDelete:
		return t.delete(rk, op.id, ifMatch)
	case opPatch:
		return t.patch(rk, op.id, body, ifMatch)
	}
	m, id, msg := parseDocument(body)
	if msg != "" {
		return failed(http.StatusBadRequest, 0, msg)
	}
	switch op.kind {
	case opCreate:
		return t.create(rk, m, id)
	case opUpsert:
		return t.upsert(rk, m, id, ifMatch)
	}
	return t.replace(rk, op.id, m, id, ifMatch)
}
