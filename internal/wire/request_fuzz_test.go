package wire

import (
	"strings"
	"testing"
)

// FuzzResourceOf checks ResourceOf on arbitrary URL paths: it never
// panics, the type is one segment, the link has no leading or trailing
// "/", and type and link put back together are the path's non-empty
// segments.
func FuzzResourceOf(f *testing.F) {
	for _, p := range []string{
		"", "/", "//", "/dbs", "/dbs/", "dbs", "/dbs/ToDoList", "/dbs/d/colls", "/dbs/d/colls/c",
		"/dbs/d/colls/c/docs", "/dbs/d/colls/c/docs/1", "/dbs/d/colls/c/docs/1/",
		"/dbs/d/colls/c/sprocs/s", "/dbs/d/colls/c/pkranges", "/offers", "/dbs/d/users/u/permissions",
		"/dbs/d/colls/c/docs/a%2Fb", "/dbs/d/colls/c/docs/ü", "/dbs/d/colls/c/docs/\x00",
		"///dbs///", "/dbs/d/", "/../dbs/../../x", "/dbs/d/colls/c/docs/1?x=y#z",
		strings.Repeat("/a", 1000), strings.Repeat("/", 1000),
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		typ, link := ResourceOf(path)
		segs := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
		p := strings.Join(segs, "/") // empty segments are ignored
		if p == "" {
			if typ != "" || link != "" {
				t.Fatalf("ResourceOf(%q) = %q, %q; want the root", path, typ, link)
			}
			return
		}
		if strings.Contains(typ, "/") {
			t.Fatalf("ResourceOf(%q) type %q is more than one segment", path, typ)
		}
		if strings.HasPrefix(link, "/") || strings.HasSuffix(link, "/") {
			// testdata/fuzz/FuzzResourceOf/feed_after_empty_segment once did this.
			t.Fatalf("ResourceOf(%q) link %q has a leading or trailing slash", path, link)
		}
		if len(segs)%2 == 0 { // a resource: the link is the path
			if link != p || typ != segs[len(segs)-2] {
				t.Fatalf("ResourceOf(%q) = %q, %q; want %q, %q", path, typ, link, segs[len(segs)-2], p)
			}
			return
		}
		// A feed: the type is the last segment, the link what precedes it.
		if typ != segs[len(segs)-1] || (link == "" && typ != p) || (link != "" && link+"/"+typ != p) {
			t.Fatalf("ResourceOf(%q) = %q, %q: not the feed %q of the path", path, typ, link, segs[len(segs)-1])
		}
	})
}
