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

// operation is a request, classified.
type operation struct {
	kind         opKind
	class        Ops // ReadOps, WriteOps or AccountOps
	db, coll, id string
	tentative    bool // x-ms-cosmos-allow-tentative-writes: true
}

// classify maps a request to its operation by method, path and headers.
func classify(r *http.Request) operation {
	h := r.Header
	op := operation{class: ReadOps, tentative: isTrue(h, headerTentative)}
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

// do runs an operation against the store and reports, in the answer,
// whether it committed a write. The caller holds the account's lock.
func (s *store) do(op operation, h http.Header, body []byte, now time.Time) answer {
	ck := collKey{op.db, op.coll}
	switch op.kind {
	case opCreateDatabase:
		return s.createDatabase(body, now)
	case opReadDatabase:
		return s.readDatabase(op.db)
	case opDeleteDatabase:
		return s.deleteDatabase(op.db)
	case opCreateContainer:
		return s.createContainer(op.db, body, now)
	case opReadContainer:
		return s.readContainer(ck)
	case opDeleteContainer:
		return s.deleteContainer(ck)
	case opPKRanges:
		if c := s.container(ck); c != nil {
			return pkRanges(c, h)
		}
		return containerNotFound()
	case opFeed, opQuery:
		return s.list(ck, h, body, op.kind == opQuery)
	}
	c, gone := s.open(ck)
	if gone != nil {
		return *gone
	}
	pk, given, msg := parsePartitionKeyHeader(h)
	if msg != "" {
		return errorAnswer(http.StatusBadRequest, 0, msg)
	}
	rk := requestKey{pk, given}
	t := &txn{s: s, ck: ck, c: c, now: now}
	var ans answer
	if op.kind == opBatch {
		ans = t.batch(h, rk, body)
		if t.def() != nil && ans.status < 400 {
			ans.header.Set(headerRangeID, partitionKeyRanges[rangeOf(pk)].id)
		}
	} else {
		ans = itemAnswer(t.single(op, rk, body, h.Get("If-Match")), t.def())
		if t.def() != nil && given && ans.status < 400 && ans.header.Get(headerRangeID) == "" { // a delete
			ans.header.Set(headerRangeID, partitionKeyRanges[rangeOf(pk)].id)
		}
	}
	ans.committed = len(t.staged) > 0
	t.commit()
	return ans
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
