package cosmostest

import (
	"fmt"
	"strings"
)

// scope is the requests a Fault or a Chaos applies to, as Inject and
// Chaos checked them.
type scope struct {
	ops     Ops
	coll    collKey // zero: every collection, and requests outside them
	rangeID string  // "": any range, or none
	pk      string  // canonical text of the partition key; "": any, or none
}

// newScope checks the scope fields of a Fault or a Chaos, named what in
// messages.
func newScope(what string, ops Ops, container, rangeID, pk string) (scope, error) {
	s := scope{ops: ops, rangeID: rangeID}
	if container != "" {
		db, coll, ok := strings.Cut(container, "/")
		if !ok || db == "" || coll == "" || strings.Contains(coll, "/") {
			return scope{}, fmt.Errorf("cosmostest: %s.Container %q is not of the form db/coll", what, container)
		}
		s.coll = collKey{db, coll}
	}
	if pk != "" {
		key, given, _ := parsePartitionKey(pk)
		if !given {
			return scope{}, fmt.Errorf(`cosmostest: %s.PartitionKey %q is not a JSON array of one partition key value, such as ["eu"]`, what, pk)
		}
		s.pk = key.text
	}
	return s, nil
}

// matches reports whether a request, op, that reaches range rng (see
// store.target) is in the scope.
func (s scope) matches(op operation, rng *pkRange) bool {
	switch {
	case !s.ops.matches(op.class):
		return false
	case s.coll != (collKey{}) && s.coll != collKey{op.db, op.coll}:
		return false
	case s.rangeID != "" && (rng == nil || rng.id != s.rangeID):
		return false
	case s.pk != "" && (rng == nil || !op.key.given || op.key.pk.text != s.pk):
		return false
	}
	return true
}
