package cosmostest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Request headers of read feeds and queries.
const (
	headerMaxItemCount   = "X-Ms-Max-Item-Count"
	headerContinuation   = "X-Ms-Continuation"
	headerCrossPartition = "X-Ms-Documentdb-Query-Enablecrosspartition"
)

// continuationPrefix starts every continuation token the account hands
// out; the rest is the commit number of the last document served.
const continuationPrefix = "cosmostest:after:"

// queryBody is the body of a query request.
type queryBody struct {
	Query      *string `json:"query"`
	Parameters []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	} `json:"parameters"`
}

// list answers a read feed (GET .../docs) or a query: the matching
// documents of the collection, oldest write first, one page at a time.
// A page holds at most x-ms-max-item-count documents (all of them when
// the header is absent or not positive); x-ms-continuation, when the
// answer has it, asks for the next page. A document that is not written
// while the pages are read is served exactly once; one that is rewritten
// moves to the end and may be served again.
func (s *store) list(ck collKey, op operation, rng *pkRange, h http.Header, body []byte) answer {
	query := op.kind == opQuery
	c, gone := s.open(ck)
	if gone != nil {
		return *gone
	}
	if !query && strings.EqualFold(h.Get("A-Im"), "Incremental Feed") {
		return errorAnswer(http.StatusBadRequest, 0, "cosmostest does not serve the change feed.")
	}
	var match cond
	if query {
		var msg string
		if match, msg = parseQueryBody(body); msg != "" {
			return errorAnswer(http.StatusBadRequest, 0, msg)
		}
	}
	if op.keyMsg != "" {
		return errorAnswer(http.StatusBadRequest, 0, op.keyMsg)
	}
	pk, given, inRange := op.key.pk, op.key.given, op.rangeID != ""
	partitioned := c != nil && c.def != nil
	switch {
	case !partitioned:
		given, inRange = false, false // one partition: every document is in it
	case inRange && rng == nil:
		return rangeGone()
	case query && !given && !inRange && !strings.EqualFold(h.Get(headerCrossPartition), "true"):
		return errorAnswer(http.StatusBadRequest, 0, "Cross partition query is required but disabled. "+
			"Please set x-ms-documentdb-query-enablecrosspartition to true, specify x-ms-documentdb-partitionkey, "+
			"or revise your query to avoid this exception.")
	}
	limit, err := strconv.Atoi(cmp.Or(h.Get(headerMaxItemCount), "-1"))
	if err != nil {
		return errorAnswer(http.StatusBadRequest, 0, "x-ms-max-item-count must be an integer.")
	}
	after, ok := parseContinuation(h.Get(headerContinuation))
	if !ok {
		return errorAnswer(http.StatusBadRequest, 0, "The continuation token is malformed: cosmostest accepts only the tokens it hands out.")
	}

	var docs []*storedDoc
	if c != nil {
		for _, byPK := range c.items {
			for _, d := range byPK {
				if d.seq > after && (!given || d.pk.text == pk.text) && (!inRange || rng.holds(d.epk)) && matches(match, d.m) {
					docs = append(docs, d)
				}
			}
		}
	}
	slices.SortFunc(docs, func(x, y *storedDoc) int { return cmp.Compare(x.seq, y.seq) })
	hdr := make(http.Header)
	if limit > 0 && len(docs) > limit {
		docs = docs[:limit]
		hdr.Set(headerContinuation, continuationPrefix+strconv.FormatUint(docs[limit-1].seq, 10))
	}
	feed := struct {
		RID       string            `json:"_rid"`
		Documents []json.RawMessage `json:"Documents"`
		Count     int               `json:"_count"`
	}{Documents: make([]json.RawMessage, 0, len(docs)), Count: len(docs)}
	if partitioned {
		feed.RID = c.def.rid
	}
	for _, d := range docs {
		feed.Documents = append(feed.Documents, d.body)
	}
	hdr.Set("X-Ms-Item-Count", strconv.Itoa(len(docs)))
	out, _ := json.Marshal(feed)
	ans := answer{status: http.StatusOK, body: out, header: hdr, rangeID: rangeID(rng)}
	var every *rangeSet // the ranges a cross-partition page reads
	if partitioned && !given && !inRange {
		every = &c.def.ranges
	}
	ans.charge, ans.spread = pageCharge(every, docs)
	return ans
}

func matches(c cond, m map[string]any) bool {
	if c == nil {
		return true
	}
	v, defined := c.eval(m)
	return v && defined
}

// parseContinuation returns the commit number a continuation token
// carries (0 for none), or false if it is not a token the account made.
func parseContinuation(token string) (uint64, bool) {
	if token == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(token, continuationPrefix), 10, 64)
	return n, err == nil && strings.HasPrefix(token, continuationPrefix)
}

// parseQueryBody parses {"query": "...", "parameters": [{"name": "@p",
// "value": ...}]} and its query. On failure msg says why.
func parseQueryBody(body []byte) (c cond, msg string) {
	var qb queryBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&qb); err != nil || qb.Query == nil {
		return nil, `A query body must be a JSON object such as {"query": "SELECT * FROM c", "parameters": []}.`
	}
	params := make(map[string]any, len(qb.Parameters))
	for _, p := range qb.Parameters {
		if !strings.HasPrefix(p.Name, "@") {
			return nil, "A query parameter's name must start with @: " + strconv.Quote(p.Name) + "."
		}
		params[p.Name] = p.Value
	}
	c, err := parseQuery(*qb.Query, params)
	if err != nil {
		return nil, err.Error()
	}
	return c, ""
}
