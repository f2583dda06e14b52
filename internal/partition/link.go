package partition

import "strings"

// ContainerLink returns the link of the container that a resource link
// names or lies in, "dbs/{db}/colls/{coll}" (such as "dbs/shop/colls/orders"
// for "dbs/shop/colls/orders/docs/1"), as a part of link, without
// allocating; "" if link is not in a container. link is a resource link
// without leading or trailing "/", as a request's signing link is.
func ContainerLink(link string) string {
	rest, ok := strings.CutPrefix(link, "dbs/")
	if !ok {
		return ""
	}
	db, rest, ok := strings.Cut(rest, "/")
	if !ok || db == "" {
		return ""
	}
	rest, ok = strings.CutPrefix(rest, "colls/")
	if !ok {
		return ""
	}
	coll, _, _ := strings.Cut(rest, "/")
	if coll == "" {
		return ""
	}
	return link[:len(link)-len(rest)+len(coll)]
}
