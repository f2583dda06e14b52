package cosmostest

import (
	"strconv"
	"strings"
)

// parser parses the query language described in query.go.
type parser struct {
	toks   []token
	i      int
	alias  string
	params map[string]any // by name, "@" included
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != 0 {
		p.i++
	}
	return t
}

// back undoes next, which returned t.
func (p *parser) back(t token) {
	if t.kind != 0 {
		p.i--
	}
}

// keyword reports whether the next token is the keyword kw, and takes it.
func (p *parser) keyword(kw string) bool {
	if t := p.peek(); t.kind == 'i' && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

// punct reports whether the next token is the punctuation s, and takes it.
func (p *parser) punct(s string) bool {
	if t := p.peek(); t.kind == 'p' && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) fail(msg string) error {
	t := p.peek()
	if t.kind == 0 {
		return &queryError{t.pos, msg + ", found the end of the query"}
	}
	return &queryError{t.pos, msg + ", found " + strconv.Quote(t.text)}
}

func (p *parser) expect(s string) error {
	if !p.punct(s) {
		return p.fail("expected " + strconv.Quote(s))
	}
	return nil
}

// parseQuery parses "SELECT * FROM c [WHERE cond]" with its parameters,
// and returns the condition (nil: every document).
func parseQuery(q string, params map[string]any) (cond, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, params: params}
	if !p.keyword("SELECT") {
		return nil, p.fail("expected SELECT")
	}
	if !p.punct("*") {
		return nil, p.fail("only SELECT * is supported")
	}
	return p.from()
}

// parseCondition parses the condition of a patch, "FROM c WHERE cond".
func parseCondition(q string) (cond, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	return (&parser{toks: toks}).from()
}

// from parses "FROM [collection] [AS] alias [WHERE cond]" to the end.
func (p *parser) from() (cond, error) {
	if !p.keyword("FROM") {
		return nil, p.fail("expected FROM")
	}
	// FROM alias, FROM collection alias or FROM collection AS alias.
	for n := 0; n < 2 && p.peek().kind == 'i' && !reserved(p.peek().text); n++ {
		p.alias = p.next().text
		if p.keyword("AS") && (p.peek().kind != 'i' || reserved(p.peek().text)) {
			return nil, p.fail("expected a name after AS")
		}
	}
	if p.alias == "" {
		return nil, p.fail("expected a name after FROM")
	}
	var c cond
	if p.keyword("WHERE") {
		var err error
		if c, err = p.or(); err != nil {
			return nil, err
		}
	}
	if p.peek().kind != 0 {
		return nil, p.fail("expected WHERE or the end of the query")
	}
	return c, nil
}

// reserved reports whether word is a keyword of the service's SQL that
// cannot name a collection or an alias.
func reserved(word string) bool {
	switch strings.ToUpper(word) {
	case "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "IN", "ORDER", "BY", "GROUP",
		"JOIN", "OFFSET", "LIMIT", "TOP", "VALUE", "DISTINCT", "BETWEEN", "LIKE", "EXISTS":
		return true
	}
	return false
}

func (p *parser) or() (cond, error) {
	l, err := p.and()
	for err == nil && p.keyword("OR") {
		var r cond
		if r, err = p.and(); err == nil {
			l = orCond{l, r}
		}
	}
	return l, err
}

func (p *parser) and() (cond, error) {
	l, err := p.atom()
	for err == nil && p.keyword("AND") {
		var r cond
		if r, err = p.atom(); err == nil {
			l = andCond{l, r}
		}
	}
	return l, err
}

func (p *parser) atom() (cond, error) {
	switch {
	case p.keyword("NOT"):
		c, err := p.atom()
		return notCond{c}, err
	case p.punct("("):
		c, err := p.or()
		if err == nil {
			err = p.expect(")")
		}
		return c, err
	}
	for _, fn := range []string{"IS_NULL", "IS_DEFINED"} {
		if p.keyword(fn) {
			if err := p.expect("("); err != nil {
				return nil, err
			}
			x, err := p.operand()
			if err == nil {
				err = p.expect(")")
			}
			return funcCond{fn, x}, err
		}
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.keyword("IN") {
		return p.in(l)
	}
	t := p.next()
	op := t.text
	if op == "<>" {
		op = "!="
	}
	if t.kind != 'p' || !strings.Contains(" = != < <= > >= ", " "+op+" ") {
		p.back(t)
		return nil, p.fail("expected a comparison (=, !=, <, <=, >, >=) or IN")
	}
	r, err := p.operand()
	return cmpCond{op, l, r}, err
}

func (p *parser) in(x operand) (cond, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	c := inCond{x: x}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		c.list = append(c.list, o)
		if !p.punct(",") {
			return c, p.expect(")")
		}
	}
}

func (p *parser) operand() (operand, error) {
	t := p.next()
	switch t.kind {
	case 's':
		return constant{t.text}, nil
	case 'n':
		f, err := parseNumber(t)
		return constant{f}, err
	case '@':
		v, ok := p.params[t.text]
		if !ok {
			return nil, &queryError{t.pos, "the parameter " + t.text + " is not defined"}
		}
		return constant{normalize(v)}, nil
	case 'i':
		switch strings.ToLower(t.text) {
		case "true":
			return constant{true}, nil
		case "false":
			return constant{false}, nil
		case "null":
			return constant{nil}, nil
		}
		if t.text == p.alias {
			return p.path()
		}
	}
	p.back(t)
	return nil, p.fail("expected a value or a property of " + p.alias)
}

// path parses the steps after the alias: .name, ["name"] or [index].
func (p *parser) path() (operand, error) {
	steps := path{}
	for {
		switch {
		case p.punct("."):
			t := p.next()
			if t.kind != 'i' {
				p.back(t)
				return nil, p.fail("expected a property name")
			}
			steps = append(steps, t.text)
		case p.punct("["):
			t := p.next()
			switch n, err := strconv.Atoi(t.text); {
			case t.kind == 's':
				steps = append(steps, t.text)
			case t.kind == 'n' && err == nil && n >= 0:
				steps = append(steps, n)
			default:
				p.back(t)
				return nil, p.fail("expected a quoted property name or an array index")
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
		default:
			return steps, nil
		}
	}
}
