package cosmostest

import (
	"net/http"
	"slices"
)

// opResult is the outcome of one item operation, in a request of its own or
// in a batch.
type opResult struct {
	status, sub int
	msg         string     // why, when status ≥ 400
	doc         *storedDoc // the item to answer with, if any
	size        int        // without doc: the bytes of the item deleted, which price the delete
}

func failed(status, sub int, msg string) opResult {
	return opResult{status: status, sub: sub, msg: msg}
}

var (
	notFound = failed(http.StatusNotFound, 0, "Entity with the specified id does not exist in the system.")
	conflict = failed(http.StatusConflict, 0, "Entity with the specified id already exists in the system.")
	precond  = failed(http.StatusPreconditionFailed, 0, "Operation cannot be performed because one of the specified precondition is not met.")
)

// requestKey is the partition key a request names in its header.
type requestKey struct {
	pk    partitionKey
	given bool
}

// writeKey returns the partition key of document m written with rk. In a
// container, the document's own value decides; a header that names
// another value is refused, as the service refuses it. A request without
// the header may write (the account takes the key from the document).
func (t *txn) writeKey(m map[string]any, rk requestKey) (partitionKey, *opResult) {
	c := t.def()
	if c == nil {
		return partitionKey{}, nil
	}
	pk, msg := c.pk.of(m)
	switch {
	case msg != "":
		r := failed(http.StatusBadRequest, 0, msg)
		return pk, &r
	case rk.given && rk.pk.text != pk.text:
		r := failed(http.StatusBadRequest, subPartitionKeyMismatch,
			"PartitionKey extracted from document doesn't match the one specified in the header.")
		return pk, &r
	}
	return pk, nil
}

// pointKey returns the partition key that, with an id, addresses an item:
// the header's in a container, which must then be given.
func (t *txn) pointKey(rk requestKey) (partitionKey, *opResult) {
	if t.def() == nil {
		return partitionKey{}, nil
	}
	if !rk.given {
		r := failed(http.StatusBadRequest, 0, "PartitionKey value must be supplied for this operation.")
		return partitionKey{}, &r
	}
	return rk.pk, nil
}

func (t *txn) read(rk requestKey, id string) opResult {
	pk, bad := t.pointKey(rk)
	if bad != nil {
		return *bad
	}
	if d := t.get(id, pk); d != nil {
		return opResult{status: http.StatusOK, doc: d}
	}
	return notFound
}

func (t *txn) create(rk requestKey, m map[string]any, id string) opResult {
	pk, bad := t.writeKey(m, rk)
	if bad != nil {
		return *bad
	}
	if t.get(id, pk) != nil {
		return conflict
	}
	return opResult{status: http.StatusCreated, doc: t.put(id, pk, m)}
}

func (t *txn) upsert(rk requestKey, m map[string]any, id, ifMatch string) opResult {
	pk, bad := t.writeKey(m, rk)
	if bad != nil {
		return *bad
	}
	status := http.StatusCreated
	if d := t.get(id, pk); d != nil {
		if ifMatch != "" && ifMatch != d.etag {
			return precond
		}
		status = http.StatusOK
	}
	return opResult{status: status, doc: t.put(id, pk, m)}
}

func (t *txn) replace(rk requestKey, id string, m map[string]any, bodyID, ifMatch string) opResult {
	if bodyID != id {
		return failed(http.StatusBadRequest, 0, "The id in the body does not match the id in the path.")
	}
	pk, bad := t.pointKey(rk)
	if bad != nil {
		return *bad
	}
	d := t.get(id, pk)
	if d == nil {
		return notFound
	}
	if ifMatch != "" && ifMatch != d.etag {
		return precond
	}
	if newPK, bad := t.writeKey(m, requestKey{pk, t.def() != nil}); bad != nil || newPK.text != pk.text {
		return failed(http.StatusBadRequest, subPartitionKeyMismatch,
			"PartitionKey extracted from document doesn't match the one specified in the header.")
	}
	return opResult{status: http.StatusOK, doc: t.put(id, pk, m)}
}

func (t *txn) delete(rk requestKey, id, ifMatch string) opResult {
	pk, bad := t.pointKey(rk)
	if bad != nil {
		return *bad
	}
	d := t.get(id, pk)
	if d == nil {
		return notFound
	}
	if ifMatch != "" && ifMatch != d.etag {
		return precond
	}
	t.remove(id, pk)
	return opResult{status: http.StatusNoContent, size: len(d.body)}
}

// itemAnswer turns the opResult of a request's only operation into its
// answer: the item, if any, with its etag.
func itemAnswer(r opResult) answer {
	if r.status >= 400 {
		return errorAnswer(r.status, r.sub, r.msg)
	}
	ans := answer{status: r.status, header: make(http.Header)}
	if r.doc != nil {
		ans.body = r.doc.body
		ans.header.Set("Etag", r.doc.etag)
	}
	return ans
}

// Commits returns how many writes (create, upsert, replace, patch, delete,
// alone or in a transactional batch) of items with this id in collection
// coll of database db the account committed, whatever their partition key.
// Refused, faulted or failed writes do not count; a write whose connection
// a DropAfterCommit fault closed does. Deleting the container or the
// database does not reset the count.
func (a *Account) Commits(db, coll, id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store.commits[docKey{db, coll, id}]
}

// CommitsInPartition is Commits for the one item with this id and
// partition key value pk (a string, number, bool or nil). In a collection
// that was never created, which has no partition key, pk is ignored.
func (a *Account) CommitsInPartition(db, coll string, pk any, id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.store.commitsPK[itemKey{db, coll, "", id}] // written while without a partition key
	if k, ok := keyOf(pk); ok {
		n += a.store.commitsPK[itemKey{db, coll, k.text, id}]
	}
	return n
}

// Document returns the stored JSON of an item with this id, system
// properties included, and whether one exists. If items with this id
// exist under several partition key values, it returns the one written
// least recently; DocumentInPartition chooses.
func (a *Account) Document(db, coll, id string) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var found *storedDoc
	for _, d := range a.store.colls[collKey{db, coll}].itemsWithID(id) {
		if found == nil || d.seq < found.seq {
			found = d
		}
	}
	if found == nil {
		return nil, false
	}
	return slices.Clone(found.body), true
}

// DocumentInPartition is Document for the one item with this id and
// partition key value pk (a string, number, bool or nil). In a collection
// that was never created, which has no partition key, pk is ignored.
func (a *Account) DocumentInPartition(db, coll string, pk any, id string) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.store.colls[collKey{db, coll}]
	k, ok := keyOf(pk)
	if c != nil && c.def == nil {
		k, ok = partitionKey{}, true
	}
	if d := c.get(id, k); ok && d != nil {
		return slices.Clone(d.body), true
	}
	return nil, false
}

func (c *collection) itemsWithID(id string) map[string]*storedDoc {
	if c == nil {
		return nil
	}
	return c.items[id]
}
